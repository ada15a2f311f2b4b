"""From raw bytes to stored facts: decide, archive, build the event, append exactly once.

`prepare` is the CPU part (parse, archive, build the event) and runs in worker processes
for throughput; `store_prepared` appends inside the caller's transaction, so an IMAP
checkpoint or an SMTP acknowledgement follows the very commit that holds the events.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import multiprocessing
import os
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import orjson
import sqlalchemy as sa

from adapters.mail.parsing import MailParseError, ParsedEmail, capture_keys, parse_email
from hub.archive import Archive
from hub.events import Metadata, NewEvent
from hub.events.mail import Attachment, CaptureFailed, EmailReceived, EmailSeenInMailbox, EmailSent
from hub.phone import normalize
from hub.store import ANY, EventStore, Transaction
from hub.store.crypto import SEALED, key_ref, keys_by_ref, unseal
from hub.store.schema import events
from hub.workers import exit_with

MailEvent = EmailReceived | EmailSent | CaptureFailed
SLICE = 16  # messages per worker task
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MailRules:
    """Which mail is the firm's own, and which is kept out of the shared history."""

    own_addresses: frozenset[str] = frozenset()
    own_domains: frozenset[str] = frozenset()
    skip_internal: bool = True
    exclude_senders: frozenset[str] = frozenset()
    exclude_domains: frozenset[str] = frozenset()
    region: str = "DE"
    own_area_code: str | None = None

    def is_own(self, address: str) -> bool:
        return address in self.own_addresses or address.rpartition("@")[2] in self.own_domains

    def excluded(self, mail: ParsedEmail) -> str | None:
        """Why this mail is not captured, or None."""
        for address in mail.participants:
            if (
                address in self.exclude_senders
                or address.rpartition("@")[2] in self.exclude_domains
            ):
                return "excluded"
        if self.skip_internal and mail.participants and all(map(self.is_own, mail.participants)):
            return "internal"
        return None


@dataclass(slots=True)
class Prepared:
    """One message ready to append (or skipped, with only the reason kept)."""

    stream: str
    key: str
    mailbox: str
    event: MailEvent | None = None
    skipped: str | None = None
    refs: tuple[str, ...] = field(default_factory=tuple)
    # The key it had before Message-IDs were hashed (parsing.capture_keys), if different.
    legacy_key: str | None = None


def stream_for(key: str) -> str:
    return "email-" + hashlib.sha256(key.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def archive_at(root: str) -> Archive:
    """The archive under `root` (the workers are handed its path, once per message)."""
    return Archive(Path(root))


def prepare(raw: bytes, mailbox: str, rules: MailRules, archive_root: str) -> Prepared:
    """Parses and archives one message; never raises for bad input (CaptureFailed)."""
    archive = archive_at(archive_root)
    try:
        mail = parse_email(raw)
    except MailParseError as err:
        return _failed(raw, mailbox, archive, str(err))
    except Exception as err:  # a parser bug must not lose the message either
        return _failed(raw, mailbox, archive, f"parser error: {type(err).__name__}: {err}")
    key, legacy_key = capture_keys(raw, mail.message_id)
    stream = stream_for(key)
    if reason := rules.excluded(mail):
        return Prepared(stream, key, mailbox, skipped=reason)
    raw_ref = archive.put(raw, sync=False)
    html_ref = (
        archive.put(mail.html.encode("utf-8", "surrogatepass"), sync=False) if mail.html else None
    )
    attachments = tuple(
        Attachment(
            name=a.name,
            content_type=a.content_type,
            size=len(a.data),
            ref=archive.put(a.data, sync=False),
        )
        for a in mail.attachments
    )
    sent = rules.is_own(mail.sender)
    cls = EmailSent if sent else EmailReceived
    event = cls(
        message_id=mail.message_id,
        sender=mail.sender,
        sender_name=mail.sender_name,
        to=mail.to,
        cc=mail.cc,
        bcc=mail.bcc,
        subject=mail.subject,
        text=mail.text,
        text_truncated=mail.text_truncated,
        html_ref=html_ref,
        attachments=attachments,
        raw_ref=raw_ref,
        raw_size=len(raw),
        date=mail.date,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        mailboxes=(mailbox,),
        signature_phones=_numbers(mail.signature_numbers, rules),
        defects=tuple(mail.defects),
    )
    refs = (raw_ref, *((html_ref,) if html_ref else ()), *(a.ref for a in attachments))
    return Prepared(stream, key, mailbox, event=event, refs=refs, legacy_key=legacy_key)


def prepare_batch(
    raws: Sequence[tuple[bytes, str]], rules: MailRules, archive_root: str, *, sync: bool = True
) -> list[Prepared]:
    """`prepare` for several messages, their blobs made durable with one sync: one task
    (and one round trip) for a worker, and no extra hop through the event loop. Without
    `sync` the caller makes them durable (the SMTP commit group, once for the group)."""
    items = [prepare(raw, mailbox, rules, archive_root) for raw, mailbox in raws]
    refs = [ref for item in items for ref in item.refs]
    if refs and sync:
        archive_at(archive_root).sync(refs)
    return items


def _failed(raw: bytes, mailbox: str, archive: Archive, error: str) -> Prepared:
    raw_ref = archive.put(raw, sync=False)
    digest = raw_ref.removeprefix("sha256:")
    key = f"email:failed:{digest}"
    event = CaptureFailed(
        source=mailbox, error=error[:2000], raw_sha256=digest, raw_size=len(raw), raw_ref=raw_ref
    )
    return Prepared(stream_for(key), key, mailbox, event=event, refs=(raw_ref,))


def _numbers(found: Sequence[str], rules: MailRules) -> tuple[str, ...]:
    numbers = []
    for item in found:
        kind, _, written = item.partition(":")
        e164 = _normalize(written, rules.region, rules.own_area_code)
        if e164:
            numbers.append(f"{kind}:{e164}")
    return tuple(dict.fromkeys(numbers))


@functools.lru_cache(maxsize=4096)
def _normalize(written: str, region: str, area_code: str | None) -> str | None:
    return normalize(written, region, area_code)  # phonenumbers is slow; signatures repeat


async def store_prepared(
    tx: Transaction, items: Sequence[Prepared], source: str, *, sightings: bool = True
) -> int:
    """Appends each message once; a message seen before adds only its new mailbox
    (unless `sightings` is off, as for imports: an imported copy adds nothing).

    The whole chunk is one `append_many` (one state query, one INSERT); only the rare
    repeats cost a statement each."""
    meta = Metadata(source=source)
    items = await _captured_before_hashing(tx, items)
    kept = [(item, event) for item in items if (event := item.event) is not None]
    batch = [(item.stream, ANY, [NewEvent(event, item.key, meta)]) for item, event in kept]
    results = await tx.append_many(batch) if batch else []
    appended = 0
    for (item, event), result in zip(kept, results, strict=True):
        if result.appended:
            appended += 1
        elif (
            sightings
            and not isinstance(event, CaptureFailed)
            and not await _first_seen_in(tx, item)
        ):
            seen = EmailSeenInMailbox(mailbox=item.mailbox, capture_key=item.key)
            await tx.append(item.stream, ANY, [NewEvent(seen, f"{item.key}@{item.mailbox}", meta)])
    return appended


# Built once, with an expanding parameter: built anew for every commit, this query was
# most of the SMTP commit loop's own time on the event loop (py-spy; docs/mail.md, Speed).
_STORED_KEYS = sa.select(events.c.idempotency_key).where(
    events.c.idempotency_key.in_(sa.bindparam("keys", expanding=True))
)
_STORED_DATA = sa.select(events.c.data).where(events.c.idempotency_key == sa.bindparam("key"))


# Whether a store may hold keys of the old form, by the old key's start ("email:<",
# "fax:email:<"): asked once per store and process (_may_hold_old_keys).
_OLD_KEYS: weakref.WeakKeyDictionary[EventStore, dict[str, bool]] = weakref.WeakKeyDictionary()
_KEY = events.c.idempotency_key
# Any key in [start, start's end] on the unique index; or the database's order is not
# bytewise for these characters (a collation that ignores punctuation puts "email:<z"
# after "email:="), where the range would miss keys: then the answer is yes.
_ANY_OLD_KEY = sa.select(
    sa.or_(
        sa.exists().where(_KEY.between(sa.bindparam("low"), sa.bindparam("high"))),
        sa.bindparam("probe", type_=sa.Text) >= sa.bindparam("high", type_=sa.Text),
    )
)


async def _captured_before_hashing(tx: Transaction, items: Sequence[Prepared]) -> list[Prepared]:
    """Items as they were captured before Message-IDs were hashed in capture keys: one
    found under its old key keeps that key and stream, so it is not captured twice (one
    query per chunk, on the unique index; none where the store holds no old keys)."""
    legacy = {item.legacy_key for item in items if item.legacy_key and item.event is not None}
    legacy = {old for old in legacy if await _may_hold_old_keys(tx, old)}
    if not legacy:
        return list(items)
    result = await tx.connection.execute(_STORED_KEYS, {"keys": sorted(legacy)})
    found = set(result.scalars())
    if not found:
        return list(items)
    kept = []
    for item in items:
        old = item.legacy_key
        if old is not None and old in found:
            # The stream's kind stays ("email-", "fax-": both hash the key alike).
            kind = item.stream.partition("-")[0]
            stream = f"{kind}-{hashlib.sha256(old.encode()).hexdigest()[:32]}"
            item = replace(item, stream=stream, key=old, legacy_key=None)
        kept.append(item)
    return kept


async def _may_hold_old_keys(tx: Transaction, old: str) -> bool:
    """Whether the store may hold keys of `old`'s form. Old keys hold the Message-ID in
    plain, which always starts with "<" (parsing._message_id); new captures never write
    one, so a store found without them stays so, and the answer is kept for the process:
    the lookup per commit is left out on stores that were never upgraded."""
    cut = old.find("<")
    if cut < 0:
        return True
    start = old[: cut + 1]
    known = _OLD_KEYS.setdefault(tx.store, {})
    if (found := known.get(start)) is None:
        params = {"low": start, "high": old[:cut] + "=", "probe": start + "z"}
        found = known[start] = bool((await tx.connection.execute(_ANY_OLD_KEY, params)).scalar())
    return found


async def _first_seen_in(tx: Transaction, item: Prepared) -> bool:
    """Whether the stored email was first captured in this same mailbox (a re-read).
    The mailbox is sealed with the mail's other personal fields (events captured
    before that keep it plain); once their key is erased, nothing is added either."""
    row = await tx.connection.execute(_STORED_DATA, {"key": item.key})
    raw = row.scalar_one_or_none()
    if raw is None:
        return False
    data = orjson.loads(raw)
    if "mailboxes" not in data and SEALED in data:
        ref = key_ref(data[SEALED])
        key = (await keys_by_ref(tx.connection, [ref])).get(ref)
        if key is None:
            return True
        data = unseal(data, key)
    return item.mailbox in data.get("mailboxes", ())


class MailIntake:
    """Parses (in worker processes for big batches), archives and appends email."""

    def __init__(self, archive: Archive, rules: MailRules, *, workers: int | None = None) -> None:
        self.archive = archive
        self.rules = rules
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._users = 0
        self.skipped: dict[str, int] = {}

    @asynccontextmanager
    async def in_use(self) -> AsyncIterator[None]:
        """Held by each adapter while it runs (several share one intake): when the last
        one stops (Kartei shutting down), the worker processes are stopped with it."""
        self._users += 1
        try:
            yield
        finally:
            self._users -= 1
            if self._users == 0 and self._pool is not None:
                await asyncio.to_thread(self.close)

    async def prepare_many(self, raws: Sequence[tuple[bytes, str]]) -> list[Prepared]:
        """Prepares (raw, mailbox) pairs; their blobs are durable when this returns.

        Batches go to the worker processes; a few messages (an SMTP delivery) are
        prepared in a thread, which is quicker than a round trip to the workers."""
        root = str(self.archive.root)
        if len(raws) < 2 * SLICE or self.workers == 1:
            items = await asyncio.to_thread(prepare_batch, raws, self.rules, root)
        else:
            # A few messages per task: one future and one round trip per slice, not per
            # message, keep the event loop's share of the work small.
            loop = asyncio.get_running_loop()
            executor = self._executor()
            slices = [raws[i : i + SLICE] for i in range(0, len(raws), SLICE)]
            rules = self.rules
            done = await asyncio.gather(
                *(loop.run_in_executor(executor, prepare_batch, s, rules, root) for s in slices)
            )
            items = [item for batch in done for item in batch]
        self.count_skipped(items)
        return items

    async def in_worker(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args, rules, archive root)` in a worker process (IMAP fetches there)."""
        loop = asyncio.get_running_loop()
        root = str(self.archive.root)
        call = functools.partial(fn, *args, self.rules, root)
        return await loop.run_in_executor(self._executor(), call)

    def count_skipped(self, items: Sequence[Prepared]) -> None:
        for item in items:
            if item.skipped:
                self.skipped[item.skipped] = self.skipped.get(item.skipped, 0) + 1

    def worker_pids(self) -> list[int]:
        """The worker processes now running (CPU accounting in the benchmark)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=exit_with, initargs=(os.getpid(),)
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
