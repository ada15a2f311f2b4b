"""The append-only event store: append with concurrency and idempotency, read, subscribe."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import (
    Event,
    EventCodec,
    Metadata,
    NewEvent,
    Recorded,
    UnreadableEvent,
    default_codec,
)
from hub.events.codec import json_default
from hub.store.crypto import SEALED, KeyRing, SubjectKey, key_ref, seal, unseal
from hub.store.database import Database
from hub.store.errors import ConcurrencyError, EventTooLargeError
from hub.store.notify import Notifier, PostgresListener
from hub.store.schema import events
from hub.store.tail import Tail

log = logging.getLogger(__name__)

ANY = None  # expected_version: append whatever the stream's version
NO_STREAM = 0  # expected_version: the stream must not exist yet

# Appends on PostgreSQL take this transaction-scoped advisory lock, so positions are
# handed out in commit order: a reader that has seen position N can never later find a
# committed event below N (invariant 5). Serializing appends costs little at Kartei's
# write rates and is far simpler than tracking in-flight transaction ids.
APPEND_LOCK_ID = 0x4B415254  # "KART"
SQLITE_WATCH_SECONDS = 1.0
LISTEN_READY_SECONDS = 30.0

_LOCK = sa.text("SELECT pg_advisory_xact_lock(:lock)")

# One event, checks included: the next position and version are computed in the
# statement, which inserts nothing when the key is stored or the version is not expected.
_INSERT_ONE = sa.text(
    """
    INSERT INTO events (position, stream, version, type, data, metadata, idempotency_key,
                        recorded_at)
    SELECT (SELECT coalesce(max(position), 0) + 1 FROM events), :stream, v.n + 1, :type,
           :data, :metadata, :idempotency_key, :recorded_at
    FROM (SELECT coalesce(max(version), 0) AS n FROM events WHERE stream = :stream) AS v
    WHERE (CAST(:expected AS BIGINT) IS NULL OR v.n = CAST(:expected AS BIGINT))
      AND NOT EXISTS (SELECT 1 FROM events WHERE idempotency_key = :idempotency_key)
    RETURNING position, version
    """
).bindparams(
    sa.bindparam("recorded_at", type_=events.c.recorded_at.type),
    sa.bindparam("idempotency_key", type_=sa.Text),
    sa.bindparam("expected", type_=sa.BigInteger),
)

_COLUMNS = (
    events.c.position,
    events.c.stream,
    events.c.version,
    events.c.type,
    events.c.data,
    events.c.metadata,
    events.c.recorded_at,
    events.c.idempotency_key,
)


StreamAppend = tuple[str, int | None, Sequence[Event | NewEvent]]


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Positions of the given events (stored positions for duplicates) and the new version."""

    positions: tuple[int, ...]
    version: int
    appended: int


@dataclass(slots=True)
class Transaction:
    """One write transaction: appends plus the caller's own statements, committed together."""

    store: EventStore
    connection: AsyncConnection
    created_keys: dict[str, SubjectKey] = field(default_factory=dict)
    appended: int = 0
    # The events as they will read back, for the shared tail once the commit is through.
    recorded: list[Recorded] = field(default_factory=list)

    async def append(
        self,
        stream: str,
        expected_version: int | None,
        new_events: Sequence[Event | NewEvent],
    ) -> AppendResult:
        result = await self.store._append_in(self, stream, expected_version, new_events)
        self.appended += result.appended
        return result

    async def append_many(self, batch: Sequence[StreamAppend]) -> list[AppendResult]:
        """Appends to several streams as `append` would, one after the other, in one
        state read and one INSERT (e.g. a chunk of captured mail, one stream each)."""
        results = await self.store._append_batch(
            self, [(s, v, [_new(e) for e in evs]) for s, v, evs in batch]
        )
        self.appended += sum(r.appended for r in results)
        return results


class EventStore:
    """Kartei's log of facts on SQLite or PostgreSQL."""

    def __init__(
        self,
        db: Database,
        codec: EventCodec | None = None,
        *,
        max_event_bytes: int = 1_048_576,
    ) -> None:
        self.db = db
        self.codec = codec or default_codec()
        self.max_event_bytes = max_event_bytes
        self.notifier = Notifier()
        self.keys = KeyRing()
        self._listener_task: asyncio.Task[None] | None = None
        self._listener: PostgresListener | None = None
        self._tail = Tail(self)

    async def start(self) -> None:
        """Migrates the schema and starts noticing other processes' appends."""
        await asyncio.to_thread(self.db.migrate)
        if self.db.is_sqlite:
            self._listener_task = asyncio.create_task(self._watch_sqlite(), name="sqlite-watch")
        else:
            async with self.db.read() as conn:
                schema = (await conn.execute(sa.text("SELECT current_schema()"))).scalar_one()
            self._listener = PostgresListener(self.db.libpq_conninfo(), schema, self.notifier)
            self._listener_task = asyncio.create_task(self._listener.run(), name="pg-listen")
            async with asyncio.timeout(LISTEN_READY_SECONDS):
                await self._listener.ready.wait()

    async def _watch_sqlite(self) -> None:
        """Notices appends by other processes on the same SQLite file (e.g. `kartei import`
        while `kartei run` serves). In-process appends are pushed; SQLite has no
        cross-process notification, so this checks the head once a second."""
        # Starting from 0 wakes readers once at start: whatever another process appended
        # between their first read and this watch's first look is not missed.
        seen = 0
        while True:
            try:
                head = await self.head()
            except sa.exc.OperationalError as err:
                log.warning("cannot read the log head: %s", err)
            else:
                if head != seen:
                    self.notifier.bump()
                seen = head
            await asyncio.sleep(SQLITE_WATCH_SECONDS)

    async def close(self) -> None:
        if self._listener_task is not None:
            self._listener_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener_task
            self._listener_task = None
        await self.db.dispose()

    # -- writing -----------------------------------------------------------------

    @asynccontextmanager
    async def transaction(
        self, *, durable: bool = True, background: bool = False
    ) -> AsyncIterator[Transaction]:
        """Appends and other statements (checkpoints, read-model rows) in one commit
        (`durable`, `background`: see `Database.write`)."""
        async with self.db.write(durable=durable, background=background) as conn:
            tx = Transaction(self, conn)
            yield tx
        self.keys.remember(tx.created_keys)
        if tx.appended:
            self._tail.offer(tx.recorded)
            self.notifier.bump()

    async def append(
        self,
        stream: str,
        expected_version: int | None,
        new_events: Sequence[Event | NewEvent],
        *,
        durable: bool = True,
    ) -> AppendResult:
        """Appends events to a stream in one transaction.

        `expected_version` is the stream's version the caller saw (NO_STREAM for a new
        stream) or ANY. Events whose idempotency key is stored already append nothing and
        report their stored position.
        """
        async with self.transaction(durable=durable) as tx:
            return await tx.append(stream, expected_version, new_events)

    async def _append_in(
        self,
        tx: Transaction,
        stream: str,
        expected_version: int | None,
        new_events: Sequence[Event | NewEvent],
    ) -> AppendResult:
        pending = [_new(e) for e in new_events]
        if len(pending) == 1:
            single = await self._append_one(tx, stream, expected_version, pending[0])
            if single is not None:
                return single
        [result] = await self._append_batch(tx, [(stream, expected_version, pending)])
        return result

    async def _append_batch(
        self, tx: Transaction, batch: Sequence[tuple[str, int | None, Sequence[NewEvent]]]
    ) -> list[AppendResult]:
        """The general path: check every stream's version and every key, then insert all."""
        conn = tx.connection
        streams = list(dict.fromkeys(stream for stream, _, _ in batch))
        keys = [p.idempotency_key for _, _, ps in batch for p in ps if p.idempotency_key]
        head, versions, stored = await self._append_state(conn, streams, keys)

        planned: list[tuple[NewEvent, str, int]] = []  # the event, its stream and version
        results: list[AppendResult] = []
        for stream, expected_version, pending in batch:
            current = versions.get(stream, 0)
            positions: list[int] = []
            new = 0
            for p in pending:
                key = p.idempotency_key
                if key is not None and key in stored:
                    positions.append(stored[key])
                    continue
                new += 1
                planned.append((p, stream, current + new))
                positions.append(head + len(planned))
                if key is not None:
                    stored[key] = head + len(planned)  # a repeat of the key later on
            if new and expected_version is not None and expected_version != current:
                raise ConcurrencyError(stream, expected_version, current)
            versions[stream] = current + new
            results.append(AppendResult(tuple(positions), current + new, new))
        if not planned:
            return results

        subjects = {s for p, _, _ in planned if (s := _subject(p.event)) is not None}
        subject_keys = (
            await self.keys.keys_for_writing(conn, subjects, tx.created_keys) if subjects else {}
        )
        now = datetime.now(UTC)
        rows = []
        for offset, (p, stream, version) in enumerate(planned, start=1):
            subject = _subject(p.event)
            sealing_key = subject_keys[subject] if subject is not None else None
            row = self._encode(p, stream, version, now, sealing_key)
            row["position"] = head + offset
            rows.append(row)
        try:
            await conn.execute(sa.insert(events), rows)
        except IntegrityError as err:
            # Only a writer bypassing the append lock can get here; report what we know.
            stream = planned[0][1]
            raise ConcurrencyError(stream, versions[stream], versions[stream] + 1) from err
        tx.recorded.extend(_recorded(row, p) for row, (p, _, _) in zip(rows, planned, strict=True))
        return results

    async def _append_one(
        self, tx: Transaction, stream: str, expected_version: int | None, p: NewEvent
    ) -> AppendResult | None:
        """The common case in one statement: insert unless the key is stored or the stream
        moved. None sends the caller to the general path, which says which it was."""
        if not self.db.is_sqlite:
            await tx.connection.execute(_LOCK, {"lock": APPEND_LOCK_ID})
        subject = _subject(p.event)
        key = None
        if subject is not None:
            key = self.keys.cached(subject) or await self.keys.key_for_writing(
                tx.connection, subject, tx.created_keys
            )
        row = self._encode(p, stream, 0, datetime.now(UTC), key)
        del row["version"]
        inserted = (
            await tx.connection.execute(_INSERT_ONE, {**row, "expected": expected_version})
        ).first()
        if inserted is None:
            return None
        row.update(position=int(inserted.position), version=int(inserted.version))
        tx.recorded.append(_recorded(row, p))
        return AppendResult((int(inserted.position),), int(inserted.version), 1)

    async def _append_state(
        self, conn: AsyncConnection, streams: list[str], keys: list[str]
    ) -> tuple[int, dict[str, int], dict[str, int]]:
        """Takes the append lock; returns the head, the streams' versions (streams without
        events are missing) and the positions of already stored keys, in one round trip."""
        if self.db.is_sqlite:
            # BEGIN IMMEDIATE has taken SQLite's write lock already.
            as_json = {"streams": orjson.dumps(streams), "keys": orjson.dumps(keys)}
            params = {k: v.decode() for k, v in as_json.items()}
            rows = (await conn.execute(_SQLITE_APPEND_STATE, params)).all()
        else:
            rows = (
                await conn.execute(
                    sa.text("SELECT kind, key, n FROM events_append_state(:lock, :streams, :keys)"),
                    {"lock": APPEND_LOCK_ID, "streams": streams, "keys": keys},
                )
            ).all()
        head = 0
        versions: dict[str, int] = {}
        stored: dict[str, int] = {}
        for kind, key, n in rows:
            if kind == "head":
                head = int(n)
            elif kind == "version":
                versions[key] = int(n)
            else:
                stored[key] = int(n)
        return head, versions, stored

    def _encode(
        self, p: NewEvent, stream: str, version: int, now: datetime, key: SubjectKey | None
    ) -> dict[str, Any]:
        """The row for an event; `key` is its data subject's key when it has one."""
        event = p.event
        name = self.codec.name_of(event)
        data = self.codec.to_data(event)
        subject = _subject(event)
        if subject is not None:
            if key is None:  # never store personal fields unsealed
                raise ValueError(f"no key for data subject {subject!r} of {name}")
            data = seal(data, event.personal_fields, key)
        encoded = orjson.dumps(data, default=json_default).decode()
        if len(encoded) > self.max_event_bytes:
            raise EventTooLargeError(name, len(encoded), self.max_event_bytes)
        return {
            "stream": stream,
            "version": version,
            "type": name,
            "data": encoded,
            "metadata": _encode_metadata(p.metadata, type(event).schema_version),
            "idempotency_key": p.idempotency_key,
            "recorded_at": now,
        }

    # -- reading -----------------------------------------------------------------

    async def head(self) -> int:
        """The position of the newest event (0 for an empty log)."""
        async with self.db.read() as conn:
            query = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0))
            return int((await conn.execute(query)).scalar_one())

    async def read_stream(self, stream: str, from_version: int = 1) -> list[Recorded]:
        """A stream's events from a version on, in order."""
        query = (
            sa.select(*_COLUMNS)
            .where(events.c.stream == stream, events.c.version >= from_version)
            .order_by(events.c.version)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            return await self._decode_rows(conn, rows)

    async def read_all(
        self,
        after: int = 0,
        limit: int = 1000,
        *,
        types: Collection[str] | None = None,
        stream_prefix: str | None = None,
    ) -> list[Recorded]:
        """Up to `limit` events after a global position, optionally filtered."""
        query = sa.select(*_COLUMNS).where(events.c.position > after)
        if types:
            query = query.where(events.c.type.in_(list(types)))
        if stream_prefix:
            query = query.where(events.c.stream.startswith(stream_prefix, autoescape=True))
        query = query.order_by(events.c.position).limit(limit)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            return await self._decode_rows(conn, rows)

    async def read_positions(self, positions: Collection[int]) -> list[Recorded]:
        """The events at these positions, in log order (missing positions are left out)."""
        found: list[Recorded] = []
        wanted = sorted(set(positions))
        async with self.db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = sa.select(*_COLUMNS).where(events.c.position.in_(chunk))
                rows = (await conn.execute(query.order_by(events.c.position))).all()
                found += await self._decode_rows(conn, rows)
        return found

    def forget_subjects(self, subjects: Collection[str]) -> None:
        """Drops erased subjects' keys and every decoded event from this process's memory."""
        for subject in subjects:
            self.keys.forget(subject)
        self._tail.forget()

    async def last_before(self, position: int, types: Collection[str] | None = None) -> int:
        """The position of the last event before `position` (of `types`); 0 when none."""
        query = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0)).where(
            events.c.position < position
        )
        if types:
            query = query.where(events.c.type.in_(list(types)))
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def read_after(
        self, after: int, limit: int, known: Mapping[int, Recorded]
    ) -> list[Recorded]:
        """`read_all(after, limit)`, taking the events in `known` (by position) as they
        are and decoding only the others' rows."""
        if not known:
            return await self.read_all(after, limit)
        query = (
            sa.select(events.c.position)
            .where(events.c.position > after)
            .order_by(events.c.position)
            .limit(limit)
        )
        async with self.db.read() as conn:
            positions = list((await conn.execute(query)).scalars())
            missing = [p for p in positions if p not in known]
            decoded: dict[int, Recorded] = {}
            if missing:
                rows = await conn.execute(
                    sa.select(*_COLUMNS).where(events.c.position.in_(missing))
                )
                decoded = {r.position: r for r in await self._decode_rows(conn, rows.all())}
        return [known[p] if p in known else decoded[p] for p in positions]

    async def iter_all(
        self,
        after: int = 0,
        batch_size: int = 1000,
        *,
        types: Collection[str] | None = None,
        stream_prefix: str | None = None,
    ) -> AsyncIterator[list[Recorded]]:
        """The log after a position, in batches, up to its end (filtered as `read_all`)."""
        while batch := await self.read_all(
            after, batch_size, types=types, stream_prefix=stream_prefix
        ):
            yield batch
            after = batch[-1].position

    async def subscribe(
        self,
        after: int = 0,
        *,
        batch_size: int = 500,
        types: Collection[str] | None = None,
        stream_prefix: str | None = None,
    ) -> AsyncIterator[list[Recorded]]:
        """Catch up from `after`, then follow the log live, one batch at a time
        (filtered as `read_all`)."""
        position = after
        while True:
            generation = self.notifier.generation
            batch = await self._tail.after(position, batch_size, types, stream_prefix)
            if batch is None:  # further behind than the shared tail reaches
                batch = await self.read_all(
                    position, batch_size, types=types, stream_prefix=stream_prefix
                )
            if batch:
                position = batch[-1].position
                yield batch
            else:
                await self.notifier.wait(generation)

    async def _decode_rows(self, conn: AsyncConnection, rows: Sequence[Any]) -> list[Recorded]:
        parsed: list[tuple[Any, dict[str, Any] | str]] = []
        subjects: set[str] = set()
        for row in rows:
            data: dict[str, Any] | str
            try:
                data = orjson.loads(row[4])
            except orjson.JSONDecodeError as err:
                data = f"corrupt JSON: {err}"
            if not isinstance(data, dict | str):
                data = f"corrupt payload: a JSON {type(data).__name__}, not an object"
            if isinstance(data, str):
                log.error("event at position %d (%s) is unreadable: %s", row[0], row[3], data)
            elif isinstance(sealed := data.get(SEALED), dict):
                subjects.add(key_ref(sealed))
            parsed.append((row, data))
        keys = await self.keys.load(conn, subjects) if subjects else {}
        return [self._decode(row, data, keys) for row, data in parsed]

    def _decode(self, row: Any, data: dict[str, Any] | str, keys: dict[str, bytes]) -> Recorded:
        position, stream, version, type_name, _, raw_meta, recorded_at, key = row
        metadata = _parse_metadata(raw_meta)
        erased = False
        event: Event
        if metadata is None:
            event = UnreadableEvent(type_name=type_name, error="corrupt metadata JSON")
            metadata = Metadata()
        elif isinstance(data, str):
            event = UnreadableEvent(type_name=type_name, error=data)
        else:
            sealed = data.get(SEALED)
            try:
                if sealed is None:
                    event = self.codec.from_data(type_name, metadata.schema_version, data)
                elif (ref := key_ref(sealed)) in keys:
                    data = unseal(data, keys[ref])
                    event = self.codec.from_data(type_name, metadata.schema_version, data)
                else:
                    event = self._erased(type_name, metadata.schema_version, data)
                    erased = True
            except (ValueError, KeyError, TypeError) as err:
                # ValueError: the seal does not open; Key/TypeError: a mangled seal.
                log.error("event at position %d (%s) is unreadable: %s", position, type_name, err)
                event = UnreadableEvent(type_name=type_name, error=str(err))
        if recorded_at.tzinfo is None:  # SQLite returns naive timestamps; they are UTC
            recorded_at = recorded_at.replace(tzinfo=UTC)
        return Recorded(
            position, stream, version, type_name, event, metadata, recorded_at, key, erased
        )

    def _erased(self, name: str, version: int, data: dict[str, Any]) -> Event:
        data.pop(SEALED)
        cls = self.codec.type_for(name)
        if cls is not None:
            data.update(self.codec.erased_values(cls))
        return self.codec.from_data(name, version, data)


def _recorded(row: dict[str, Any], p: NewEvent) -> Recorded:
    """The event of a row just inserted, as reading the row would return it: a reader
    in this process takes it instead of reading and unsealing the row again."""
    return Recorded(
        row["position"],
        row["stream"],
        row["version"],
        row["type"],
        p.event,
        _stored_metadata(p.metadata, type(p.event).schema_version),
        row["recorded_at"],
        p.idempotency_key,
    )


@functools.lru_cache(maxsize=1024)
def _stored_metadata(metadata: Metadata, schema_version: int) -> Metadata:
    """The metadata as it reads back (with the event's schema version)."""
    return dataclasses.replace(metadata, schema_version=schema_version)


def _new(event: Event | NewEvent) -> NewEvent:
    return event if isinstance(event, NewEvent) else NewEvent(event)


def _subject(event: Event) -> str | None:
    """The data subject whose key seals this event's personal fields, if any."""
    return event.data_subject() if event.personal_fields else None


def _json_values(name: str) -> Any:
    """SQLite: the values of a JSON array parameter, as a subquery."""
    return sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam(name)))


# Built once: building it for every append cost more CPU than SQLite's answer (its cache
# key is computed from the whole statement on each execution of a new object).
# JSON parameters instead of IN lists keep one statement for any number of values.
_SQLITE_APPEND_STATE = sa.union_all(
    sa.select(
        sa.literal("head"),
        sa.literal(None, sa.Text),
        sa.func.coalesce(sa.func.max(events.c.position), 0),
    ),
    sa.select(sa.literal("version"), events.c.stream, sa.func.max(events.c.version))
    .where(events.c.stream.in_(_json_values("streams")))
    .group_by(events.c.stream),
    sa.select(sa.literal("key"), events.c.idempotency_key, events.c.position).where(
        events.c.idempotency_key.in_(_json_values("keys"))
    ),
)


@functools.lru_cache(maxsize=1024)
def _encode_metadata(metadata: Metadata, schema_version: int) -> str:
    return orjson.dumps({**metadata.as_dict(), "schema_version": schema_version}).decode()


@functools.lru_cache(maxsize=4096)
def _parse_metadata(raw: str) -> Metadata | None:
    """Metadata repeats from event to event; each distinct document is parsed once."""
    try:
        meta = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return Metadata(
        source=meta.get("source"),
        actor=meta.get("actor"),
        correlation_id=meta.get("correlation_id"),
        causation_id=meta.get("causation_id"),
        schema_version=int(meta.get("schema_version", 1)),
    )
