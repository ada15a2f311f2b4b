"""From a fax email's raw bytes to a stored FaxReceived: read, archive, OCR, append once.

Reuses the email capture's machinery: `Prepared` and `store_prepared` (exactly once, under
the message's capture key) and the SMTP journal intake (answer 250 only after commit):
either the mail listener routes the fax addresses to this intake (`fax_route`), or
`FaxSmtpIntake` runs a listener of its own with this intake behind it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from adapters.fax import ocr
from adapters.fax.document import DocumentError, read_document
from adapters.fax.parsing import FaxParseError, parse_fax
from adapters.fax.profiles import Profile
from adapters.mail.parsing import capture_keys
from adapters.mail.pipeline import Prepared, archive_at
from adapters.mail.smtp import Route, SmtpJournalIntake
from hub.archive import Archive
from hub.capture import Capture
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed
from hub.phone import normalize

MAILBOX = "smtp:fax"


@dataclass(frozen=True, slots=True)
class FaxRules:
    """How faxes are read: profiles, OCR languages, limits, the firm's phone region."""

    profiles: tuple[Profile, ...]
    languages: str = "deu+eng"
    max_attachment_bytes: int = 20 * 1024 * 1024
    ocr: bool = True  # False: capture without OCR (the retry worker reads them later)
    region: str = "DE"
    own_area_code: str | None = None


def stream_for(key: str) -> str:
    return "fax-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def prepare_fax(raw: bytes, mailbox: str, rules: FaxRules, archive_root: str) -> Prepared:
    """Reads, archives and OCRs one fax email; never raises for bad input (CaptureFailed)."""
    archive = archive_at(archive_root)
    try:
        fax = parse_fax(raw, rules.profiles)
    except FaxParseError as err:
        return _failed(raw, mailbox, archive, str(err))
    except Exception as err:  # a parser bug must not lose the fax either
        return _failed(raw, mailbox, archive, f"parser error: {type(err).__name__}: {err}")
    key, legacy = capture_keys(raw, fax.mail.message_id)
    key, legacy_key = "fax:" + key, legacy and "fax:" + legacy
    raw_ref = archive.put(raw, sync=False)
    document = fax.document
    doc_ref = archive.put(document.data, sync=False)
    refs = [raw_ref, doc_ref]
    pages, text, source, preview_ref, error = fax.pages or 0, "", "", None, ""
    status, ocr_error = "none", ""
    if len(document.data) > rules.max_attachment_bytes:
        size, limit = len(document.data), rules.max_attachment_bytes
        error = f"fax document too large ({size} bytes, limit {limit})"
    else:
        try:
            read = read_document(document.data, fax.kind)
        except DocumentError as err:
            error = str(err)
        else:
            pages = read.pages
            if read.preview_png:
                preview_ref = archive.put(read.preview_png, sync=False)
                refs.append(preview_ref)
            if read.text:
                text, source, status = read.text, "pdf", "done"
            else:
                text, status, ocr_error = _ocr(document.data, fax.kind, rules)
                source = "ocr" if status == "done" else ""
    event = FaxReceived(
        sender=_e164(fax.sender_raw, rules),
        sender_raw=fax.sender_raw,
        receiver=_e164(fax.receiver_raw, rules),
        receiver_raw=fax.receiver_raw,
        pages=pages,
        received_at=fax.mail.date,
        profile=fax.profile,
        message_id=fax.mail.message_id,
        subject=fax.mail.subject,
        document_name=document.name,
        document_type=document.content_type,
        document_size=len(document.data),
        document_ref=doc_ref,
        preview_ref=preview_ref,
        document_error=error,
        text=text,
        text_source=source,
        ocr_status=status,
        ocr_error=ocr_error,
        raw_ref=raw_ref,
        raw_size=len(raw),
        mailboxes=(mailbox,),
    )
    stream = stream_for(key)
    return Prepared(stream, key, mailbox, event=event, refs=tuple(refs), legacy_key=legacy_key)  # type: ignore[arg-type]


def _ocr(data: bytes, kind: str, rules: FaxRules) -> tuple[str, str, str]:
    """(text, status, error): done with text, pending when OCR is off or cannot run."""
    if not rules.ocr:
        return "", "pending", "OCR runs later"
    try:
        return ocr.recognize(data, kind, rules.languages), "done", ""
    except ocr.OcrError as err:
        return "", "pending", str(err)
    except DocumentError as err:
        return "", "failed", str(err)


def _e164(raw: str, rules: FaxRules) -> str | None:
    return normalize(raw, rules.region, rules.own_area_code) if raw else None


def _failed(raw: bytes, mailbox: str, archive: Archive, error: str) -> Prepared:
    raw_ref = archive.put(raw, sync=False)
    digest = raw_ref.removeprefix("sha256:")
    key = f"fax:failed:{digest}"
    event = CaptureFailed(
        source=mailbox, error=error[:2000], raw_sha256=digest, raw_size=len(raw), raw_ref=raw_ref
    )
    return Prepared(stream_for(key), key, mailbox, event=event, refs=(raw_ref,))


class FaxIntake:
    """Prepares fax emails off the event loop; same interface as the mail intake.

    `mailbox` names where faxes came from (the SMTP intake's own name); None: as the
    caller says (an IMAP folder: ``imap:<account>/<folder>``).
    """

    def __init__(self, archive: Archive, rules: FaxRules, mailbox: str | None = MAILBOX) -> None:
        self.archive = archive
        self.rules = rules
        self.mailbox = mailbox
        self.skipped: dict[str, int] = {}

    async def prepare_many(
        self, raws: Sequence[tuple[bytes, str]], *, pool: bool | None = None
    ) -> list[Prepared]:
        """Prepares each fax in a thread (OCR runs in a tesseract child process).

        `pool` is the mail intake's choice of worker processes (the journal listener
        passes it); faxes always take threads: their heavy part is already a child process.
        """
        root = str(self.archive.root)
        jobs = [
            asyncio.to_thread(prepare_fax, raw, self.mailbox or box, self.rules, root)
            for raw, box in raws
        ]
        items = await asyncio.gather(*jobs)
        refs = [ref for item in items for ref in item.refs]
        if refs:
            await asyncio.to_thread(self.archive.sync, refs)
        return list(items)

    def close(self) -> None:
        """Nothing to release (no process pool); here for the mail intake's interface."""

    @asynccontextmanager
    async def in_use(self) -> AsyncIterator[None]:
        """Nothing to stop with the last adapter (the mail intake's interface)."""
        yield


def fax_route(addresses: Sequence[str], intake: FaxIntake) -> Route:
    """Deliveries to the fax addresses on the mail SMTP listener go to the fax intake."""
    return Route(frozenset(a.lower() for a in addresses), intake, MAILBOX)


class FaxRouteHealth:
    """The fax's health line when faxes arrive on the mail listener: addresses, OCR."""

    name = "fax-smtp"
    lease_scope = "host"  # reports on this machine's OCR, beside its mail listener
    recheck_seconds = 600.0  # an admin who installs a language pack sees it within minutes

    def __init__(self, addresses: Sequence[str], languages: str) -> None:
        self.addresses = ", ".join(addresses)
        self.languages = languages
        self.checked = asyncio.Event()  # set after the first check (tests wait on it)

    async def run(self, capture: Capture) -> None:
        """Reports OCR readiness now and every few minutes, until cancelled."""
        route = f"mail SMTP listener, to {self.addresses}"
        while True:
            if problem := await asyncio.to_thread(ocr.problem, self.languages):
                message = f"faxes are kept without text until OCR can run: {problem}"
                capture.health.set("degraded", message, route=route)
            else:
                capture.health.set("ok", route=route)
            self.checked.set()
            await asyncio.sleep(self.recheck_seconds)


class FaxSmtpIntake(SmtpJournalIntake):
    """The SMTP journal intake on the fax address: same rules, fax parser behind it."""

    name = "fax-smtp"

    async def run(self, capture: Capture) -> None:
        """Serves like the journal intake; health says so when OCR cannot run."""
        watcher = asyncio.create_task(self._warn_without_ocr(capture))
        try:
            await super().run(capture)
        finally:
            watcher.cancel()

    async def _warn_without_ocr(self, capture: Capture) -> None:
        await self.ready.wait()
        languages = self.intake.rules.languages  # type: ignore[attr-defined]
        if problem := await asyncio.to_thread(ocr.problem, languages):
            message = f"faxes are kept without text until OCR can run: {problem}"
            capture.health.set("degraded", message, listening=f"{self.host}:{self.bound_port}")
