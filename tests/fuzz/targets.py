"""What each parser of outside input must do with any input: answer, or refuse with its own
documented error. Shared by the property tests (tests/fuzz/test_parsers.py, a few hundred
examples each) and the long coverage-guided run (bench/fuzz.py, atheris).

A target takes bytes, feeds them to one parser the way Kartei does, and returns normally
when the parser answered or raised the error type its module documents. Anything else
(an IndexError, a RecursionError, a KeyError ...) propagates: that is a finding.
"""

from __future__ import annotations

import contextlib
import email
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import Message
from zoneinfo import ZoneInfo

from adapters.fax.parsing import FaxParseError, parse_fax
from adapters.fax.profiles import Profile, ProfileError, load_profiles
from adapters.importers.columns import MappingError
from adapters.importers.plan import Directory, plan_import
from adapters.importers.tabular import FileFormatError, read_csv, read_xlsx
from adapters.importers.vcard import read_vcards
from adapters.mail import mime
from adapters.mail.parsing import MailParseError, capture_key, parse_email
from adapters.telephony.ami_calls import AmiCallMapper
from adapters.telephony.ami_parsing import AmiFramer, AmiProtocolError
from adapters.telephony.fritzbox_parsing import CallMonitorLineError, LineFramer, parse_line
from adapters.telephony.model import CallTracker
from adapters.telephony.webhook_parsing import (
    WebhookBodyError,
    placetel_signal,
    read_body,
    sipgate_signal,
)
from hub.phone import normalize, split_extension

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_PROFILES: tuple[Profile, ...] | None = None


def _e164(raw: str) -> str | None:
    return normalize(split_extension(raw)[0], "DE", "221")


def shipped_profiles() -> tuple[Profile, ...]:
    global _PROFILES
    if _PROFILES is None:
        _PROFILES = load_profiles()
    return _PROFILES


def tree(msg: Message) -> object:
    """Everything the MIME parser decided: headers, payloads, preamble, epilogue, defects."""
    # The stored payload itself: get_payload() decodes a non-ASCII one by the part's
    # charset and raises for a charset name with a NUL, whichever parser built the tree.
    payload = msg._payload  # type: ignore[attr-defined]
    fields = {k: v for k, v in vars(msg).items() if k not in ("_payload", "defects")}
    defects = [(type(d).__name__, str(d)) for d in msg.defects]
    parts = [tree(p) for p in payload] if isinstance(payload, list) else payload
    return fields, defects, parts


def mime_tree(data: bytes) -> None:
    """The quick MIME reader builds exactly the standard parser's tree (a differential
    check: any difference is a finding, not only a crash)."""
    full = email.message_from_bytes(data, policy=policy.compat32)
    assert tree(mime.read_message(data)) == tree(full)


def mail(data: bytes) -> None:
    """An email as the SMTP intake and the IMAP sync read it."""
    try:
        parsed = parse_email(data)
    except MailParseError:
        capture_key(data, None)  # refused mail is still stored under its hash
        return
    capture_key(data, parsed.message_id)
    for attachment in parsed.attachments:
        assert isinstance(attachment.data, bytes)
        assert "/" not in attachment.name and "\\" not in attachment.name


def fax(data: bytes) -> None:
    """A fax provider's email read with the shipped profiles."""
    with contextlib.suppress(FaxParseError):
        parse_fax(data, shipped_profiles())


class _Text:
    """A profiles file held in memory (load_profiles reads through `read_text`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.data.decode(encoding)

    def __str__(self) -> str:
        return "<fuzz>"


def fax_profiles(data: bytes) -> None:
    """An admin's own profiles file (then used on a sample fax)."""
    try:
        profiles = load_profiles(_Text(data))  # type: ignore[arg-type]
    except ProfileError:
        return
    with contextlib.suppress(FaxParseError):
        parse_fax(SAMPLE_FAX, profiles)


SAMPLE_FAX = (
    b"From: FRITZ!Box <box@example.com>\r\nSubject: Telefax von 0221 987654\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    b"Fax von 0221 987654 an 030 1234567, 2 Seiten\r\n--b\r\n"
    b"Content-Type: application/pdf; name=fax.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n"
)


def fritzbox(data: bytes) -> None:
    """Bytes from the call monitor socket, in chunks, through the framer, parser and the
    call tracker that turns signals into calls."""
    framer, tracker = LineFramer(), CallTracker("fritzbox", _e164, ids_reused=True)
    for chunk in _chunks(data):
        for line in framer.feed(chunk):
            if not isinstance(line, bytes):
                continue
            try:
                signal = parse_line(line, BERLIN)
            except CallMonitorLineError:
                continue
            if signal is not None:
                tracker.feed(signal)
    tracker.expire()


def ami(data: bytes) -> None:
    """Bytes from an AMI socket (after a greeting) through the framer and the call mapper."""
    framer, mapper = AmiFramer(), AmiCallMapper(clock=lambda: NOW)
    tracker = CallTracker("ami", _e164)
    try:
        framer.feed(b"Asterisk Call Manager/5.0.2\r\n")
        for chunk in _chunks(data):
            for message in framer.feed(chunk):
                for signal in mapper.feed(message):
                    tracker.feed(signal)
    except AmiProtocolError:
        pass


def webhook(data: bytes) -> None:
    """A webhook body, form-encoded or JSON, read as sipgate/Zammad and as Placetel."""
    for content_type in ("application/x-www-form-urlencoded", "application/json"):
        try:
            fields = read_body(data, content_type)
        except WebhookBodyError:
            continue
        for read in (sipgate_signal, placetel_signal):
            try:
                signal = read(fields, NOW)
            except WebhookBodyError:
                continue
            if signal is not None:
                CallTracker("webhook", _e164).feed(signal)


def _plan(records: list) -> None:  # type: ignore[type-arg]
    plan_import(records, Directory([]), "fuzz")


def csv_import(data: bytes) -> None:
    with contextlib.suppress(FileFormatError, MappingError):
        _plan(read_csv(data).records)


def xlsx_import(data: bytes) -> None:
    with contextlib.suppress(FileFormatError, MappingError):
        _plan(read_xlsx(data).records)


def vcard_import(data: bytes) -> None:
    with contextlib.suppress(FileFormatError):
        _plan(read_vcards(data))


def _chunks(data: bytes) -> list[bytes]:
    """The data split as a socket may deliver it (the first byte says where)."""
    if not data:
        return []
    # At most 64 chunks: a byte at a time over 64 KB would time the harness, not the parser.
    step = max(data[0] % 16 + 1, len(data) // 64)
    return [data[i : i + step] for i in range(1, len(data), step)] or [b""]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "mime_tree": mime_tree,
    "mail": mail,
    "fax": fax,
    "fax_profiles": fax_profiles,
    "fritzbox": fritzbox,
    "ami": ami,
    "webhook": webhook,
    "csv_import": csv_import,
    "xlsx_import": xlsx_import,
    "vcard_import": vcard_import,
}
