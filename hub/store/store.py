"""The append-only event store: append with concurrency and idempotency, read, subscribe."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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
from hub.store.crypto import (
    SEALED,
    KeyRing,
    SubjectKey,
    cipher,
    key_id,
    key_ref,
    new_key,
    open_sealed,
    seal,
    unseal,
)
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
    # As the driver returns it: SQLite's text is parsed by `_utc` (fromisoformat), many
    # times faster than SQLAlchemy's regular-expression DateTime processor.
    sa.type_coerce(events.c.recorded_at, sa.Text).label("recorded_at"),
    events.c.idempotency_key,
)


# `_COLUMNS` for SQL written by hand (the driver-level reads).
_ROW_NAMES = "position, stream, version, type, data, metadata, recorded_at, idempotency_key"

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
        (`durable`, `background`: see `Database.write`). On SQLite BEGIN waits for the
        first statement: appends begin in the same hop as their work
        (`Database.write_deferred`)."""
        write = self.db.write_deferred if self.db.is_sqlite else self.db.write
        async with write(durable=durable, background=background) as conn:
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
        if self.db.is_sqlite:
            direct = await self._append_direct(
                stream, expected_version, [_new(e) for e in new_events], durable
            )
            if direct is not None:
                return direct
        elif len(new_events) == 1:
            direct = await self._append_one_pg(
                stream, expected_version, _new(new_events[0]), durable
            )
            if direct is not None:
                return direct
        async with self.transaction(durable=durable) as tx:
            return await tx.append(stream, expected_version, new_events)

    async def _append_one_pg(
        self, stream: str, expected_version: int | None, p: NewEvent, durable: bool
    ) -> AppendResult | None:
        """PostgreSQL, one event on its own: sealed and encoded first, then the append
        lock and the one-statement insert as one query string (the simple protocol runs
        its statements as one implicit transaction, each with a snapshot of its own: the
        insert's is taken after the lock is granted). One round trip and one wake-up of
        the event loop; psycopg's pipeline took ten for the same. Committed as durably
        as any other append (synchronous_commit as configured unless not `durable`).
        None sends the caller to the general path (as `_append_direct`)."""
        subject = _subject(p.event)
        key = None if subject is None else self.keys.cached(subject)
        if subject is not None and key is None:
            return None
        row = self._encode(p, stream, 0, datetime.now(UTC), key)
        del row["version"]
        script = _PG_APPEND_ONE if durable else _PG_APPEND_ONE_NOT_DURABLE
        async with self.db.writer.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            try:
                # Autocommit: no BEGIN of psycopg's own (a round trip); the script is
                # its own transaction. Values are bound by psycopg as quoted literals.
                await driver.set_autocommit(True)
                cursor = psycopg.AsyncClientCursor(driver)
                await cursor.execute(
                    script, {**row, "expected": expected_version, "lock": APPEND_LOCK_ID}
                )
                while cursor.nextset():  # the insert's RETURNING is the last result
                    pass
                inserted = await cursor.fetchone()
                await driver.set_autocommit(False)
            except BaseException:
                # Cut off (cancelled, an error) with a query in flight, the connection
                # may still owe results: it is closed, never handed to the next user.
                await conn.invalidate()
                raise
        if inserted is None:
            return None
        position, version = int(inserted[0]), int(inserted[1])
        row.update(position=position, version=version)
        self._tail.offer([_recorded(row, p)])
        self.notifier.bump()
        return AppendResult((position,), version, 1)

    async def _append_direct(
        self, stream: str, expected_version: int | None, pending: list[NewEvent], durable: bool
    ) -> AppendResult | None:
        """SQLite, an append on its own: encoded and sealed before the write lock is taken,
        then checked and inserted in one hop to the dedicated write connection's thread.
        None sends the caller to the general path: an event whose subject has no key in
        memory yet (it may need one created), or a single event that the one-statement
        insert refused (a stored key or a moved stream: the general path says which)."""
        if not pending:
            return None
        keys: dict[str, SubjectKey] = {}
        for p in pending:
            subject = _subject(p.event)
            if subject is not None and subject not in keys:
                key = self.keys.cached(subject)
                if key is None:
                    return None
                keys[subject] = key
        now = datetime.now(UTC)
        stamp = _sqlite_time(self.db, now)
        rows = []
        for p in pending:
            subject = _subject(p.event)
            rows.append(self._encode(p, stream, 0, now, keys[subject] if subject else None))

        def work(conn: sqlite3.Connection) -> tuple[list[AppendResult], list[Recorded]] | None:
            if len(rows) == 1:
                row = rows[0]
                params = {**row, "recorded_at": stamp, "expected": expected_version}
                del params["version"]
                inserted = conn.execute(_INSERT_ONE.text, params).fetchall()
                if not inserted:
                    return None
                row.update(position=inserted[0][0], version=inserted[0][1])
                result = AppendResult((row["position"],), row["version"], 1)
                return [result], [_recorded(row, pending[0])]
            encoded = {id(p): row for p, row in zip(pending, rows, strict=True)}
            return self._sqlite_append(
                conn, [(stream, expected_version, pending)], now, stamp, keys, encoded=encoded
            )

        def committed(outcome: tuple[list[AppendResult], list[Recorded]] | None) -> None:
            if outcome is not None and outcome[1]:
                self._tail.offer(outcome[1])
                self.notifier.bump()

        outcome = await self.db.write_direct(work, durable=durable, committed=committed)
        return None if outcome is None else outcome[0][0]

    def _sqlite_append(
        self,
        conn: sqlite3.Connection,
        batch: Sequence[tuple[str, int | None, Sequence[NewEvent]]],
        now: datetime,
        stamp: str,
        keys: dict[str, SubjectKey],
        *,
        encoded: Mapping[int, dict[str, Any]] | None = None,
        loaded: dict[str, SubjectKey] | None = None,
        created: dict[str, SubjectKey] | None = None,
    ) -> tuple[list[AppendResult], list[Recorded]]:
        """SQLite, on the write connection's own thread inside its write transaction:
        the append state in one query, the plan, keys for subjects that have none in
        `keys` (read into `loaded`, or made into `created`), one `executemany`.

        `encoded` holds rows sealed before the write lock (by `id` of their NewEvent);
        the others are encoded here, once they are known to be new."""
        streams = list(dict.fromkeys(stream for stream, _, _ in batch))
        idempotency = [p.idempotency_key for _, _, ps in batch for p in ps if p.idempotency_key]
        found = conn.execute(
            _SQLITE_APPEND_STATE_TEXT,
            {"streams": orjson.dumps(streams).decode(), "keys": orjson.dumps(idempotency).decode()},
        ).fetchall()
        head, versions, stored = _parse_state(found)
        planned, results = _plan(batch, head, versions, stored)
        if not planned:
            return results, []
        missing = {
            s for p, _, _ in planned if (s := _subject(p.event)) is not None and s not in keys
        }
        if missing:
            assert loaded is not None and created is not None
            _sqlite_subject_keys(conn, missing, stamp, loaded, created)
            keys = {**keys, **loaded, **created}
        inserts = []
        recorded = []
        for offset, (p, stream, version) in enumerate(planned, start=1):
            row = encoded.get(id(p)) if encoded is not None else None
            if row is None:
                subject = _subject(p.event)
                row = self._encode(p, stream, version, now, keys[subject] if subject else None)
            row.update(position=head + offset, version=version)
            inserts.append(
                (
                    row["position"],
                    stream,
                    version,
                    row["type"],
                    row["data"],
                    row["metadata"],
                    row["idempotency_key"],
                    stamp,
                )
            )
            recorded.append(_recorded(row, p))
        try:
            conn.executemany(_INSERT_ROWS, inserts)
        except sqlite3.IntegrityError as err:
            # Only a writer bypassing the write lock can get here; report what we know.
            stream = planned[0][1]
            raise ConcurrencyError(stream, versions[stream], versions[stream] + 1) from err
        return results, recorded

    async def _append_in_sqlite(
        self, tx: Transaction, batch: Sequence[tuple[str, int | None, Sequence[NewEvent]]]
    ) -> list[AppendResult]:
        """SQLite inside `transaction()`: the whole append (BEGIN IMMEDIATE where the
        transaction has not begun yet, state, plan, keys, sealing, insert) in one hop to
        the thread of the transaction's own connection (the async driver makes a hop per
        statement, and SQLAlchemy's row processing costs more than the insert)."""
        raw = (await tx.connection.get_raw_connection()).driver_connection
        assert raw is not None
        info = tx.connection.info
        keys: dict[str, SubjectKey] = {}
        for _, _, pending in batch:
            for p in pending:
                subject = _subject(p.event)
                if subject is not None and subject not in keys:
                    key = self.keys.cached(subject) or tx.created_keys.get(subject)
                    if key is not None:
                        keys[subject] = key
        now = datetime.now(UTC)
        stamp = _sqlite_time(self.db, now)
        loaded: dict[str, SubjectKey] = {}
        created: dict[str, SubjectKey] = {}

        def work() -> tuple[list[AppendResult], list[Recorded]]:
            conn: sqlite3.Connection = raw._conn  # aiosqlite's, on its thread
            self.db.begin_sqlite(conn, info)
            return self._sqlite_append(
                conn, batch, now, stamp, keys, loaded=loaded, created=created
            )

        # aiosqlite runs `work` on the connection's thread, in turn with its statements.
        results, recorded = await raw._execute(work)
        for subject, key in loaded.items():  # committed by others: cached as reads are
            self.keys.remember({subject: key})
        tx.created_keys.update(created)  # cached only once this transaction commits
        tx.recorded.extend(recorded)
        return results

    async def _append_in(
        self,
        tx: Transaction,
        stream: str,
        expected_version: int | None,
        new_events: Sequence[Event | NewEvent],
    ) -> AppendResult:
        pending = [_new(e) for e in new_events]
        if self.db.is_sqlite:
            [result] = await self._append_in_sqlite(tx, [(stream, expected_version, pending)])
            return result
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
        if self.db.is_sqlite:
            return await self._append_in_sqlite(tx, batch)
        conn = tx.connection
        streams = list(dict.fromkeys(stream for stream, _, _ in batch))
        keys = [p.idempotency_key for _, _, ps in batch for p in ps if p.idempotency_key]
        head, versions, stored = await self._append_state(conn, streams, keys)
        planned, results = _plan(batch, head, versions, stored)
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
        subject = _subject(p.event)
        key = None if subject is None else self.keys.cached(subject)
        row = None
        if subject is None or key is not None:
            # Sealed and encoded before the append lock: no other writer waits on it.
            row = self._encode(p, stream, 0, datetime.now(UTC), key)
        if not self.db.is_sqlite and row is not None:
            return await self._append_one_pg_in(tx, p, row, expected_version)
        if not self.db.is_sqlite:
            await tx.connection.execute(_LOCK, {"lock": APPEND_LOCK_ID})
        if row is None:
            assert subject is not None  # a new key is made under the lock
            key = await self.keys.key_for_writing(tx.connection, subject, tx.created_keys)
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

    async def _append_one_pg_in(
        self, tx: Transaction, p: NewEvent, row: dict[str, Any], expected_version: int | None
    ) -> AppendResult | None:
        """PostgreSQL inside `transaction()`, an event already sealed: the append lock and
        the one-statement insert as one query string in the open transaction (one round
        trip, not two; the insert's snapshot is taken after the lock is granted, as in
        `_append_one_pg`). None sends the caller to the general path."""
        del row["version"]
        driver = (await tx.connection.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            cursor = psycopg.AsyncClientCursor(driver)
            await cursor.execute(
                _PG_APPEND_ONE, {**row, "expected": expected_version, "lock": APPEND_LOCK_ID}
            )
            while cursor.nextset():  # the insert's RETURNING is the last result
                pass
            inserted = await cursor.fetchone()
        except BaseException:
            # Cut off with the query in flight, the connection may still owe results:
            # it is closed, never rolled back and handed on (the transaction is lost).
            await tx.connection.invalidate()
            raise
        if inserted is None:
            return None
        position, version = int(inserted[0]), int(inserted[1])
        row.update(position=position, version=version)
        tx.recorded.append(_recorded(row, p))
        return AppendResult((position,), version, 1)

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
        return _parse_state(rows)

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
        if not stream_prefix:
            async with self.db.read() as conn:
                rows = await self._fetch_after(conn, after, limit, types)
                return await self._decode_rows(conn, rows)
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

    async def _fetch_after(
        self, conn: AsyncConnection, after: int, limit: int, types: Collection[str] | None
    ) -> Sequence[Any]:
        """The rows of `read_all`, straight from the driver: the rows are plain tuples
        (SQLAlchemy's result processing cost about as much as decoding the events)."""
        names = sorted(types) if types else []
        mark = "?" if self.db.is_sqlite else "%s"
        where = f" AND type IN ({', '.join([mark] * len(names))})" if names else ""
        sql = (
            f"SELECT {_ROW_NAMES} FROM events WHERE position > {mark}{where}"
            f" ORDER BY position LIMIT {mark}"
        )
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        cursor = await driver.execute(sql, (after, *names, limit))
        try:
            return list(await cursor.fetchall())
        finally:
            await cursor.close()

    async def _decode_rows(self, conn: AsyncConnection, rows: Sequence[Any]) -> list[Recorded]:
        """Records for rows: the envelope now; the event (JSON, unsealing, validation)
        when a reader first asks for it, with the subject's key as it was at this read.

        Only the key a sealed event names is read now (to load the keys in one query
        and to say which events are erased). Few objects per row stay alive: the
        garbage collector's passes over them cost as much as the decoding itself."""
        key_refs: list[str | None] = []
        # Whether the seal is written as `seal` writes it (`_seal_at`): opened in place.
        in_place: list[bool] = []
        refs: set[str] = set()
        for row in rows:
            text = row[4]
            at = _seal_at(text)
            if at >= 0:
                ref: str | None = "k:" + text[at + _SEAL_ID : at + _SEAL_ID_END]
            else:
                ref = _seal_ref(text)
            if ref is not None and ref is not _MANGLED:
                refs.add(ref)
            key_refs.append(ref)
            in_place.append(at >= 0)
        keys = await self.keys.load(conn, refs) if refs else {}
        # A seal opened in place takes its key's AES-GCM object along (one per key).
        openers = {ref: (cipher(key), key) for ref, key in keys.items()}

        records = []
        stamps: dict[Any, datetime] = {}  # a batch's events share their commit's time
        lazy = Recorded.lazy
        decoder = self._open
        sealed_decoder = self._open_in_place
        for row, ref, quick in zip(rows, key_refs, in_place, strict=True):
            position, stream, version, type_name, data, raw_meta, at, key = row
            recorded_at = stamps.get(at)
            if recorded_at is None:
                recorded_at = stamps[at] = _utc(at)
            metadata = _parse_metadata(raw_meta)
            if metadata is None:
                event = UnreadableEvent(type_name=type_name, error="corrupt metadata JSON")
                records.append(
                    Recorded(
                        position, stream, version, type_name, event, Metadata(), recorded_at, key
                    )
                )
                continue
            if quick and (sealed := openers.get(ref)) is not None:  # type: ignore[arg-type]
                records.append(
                    lazy(
                        position,
                        stream,
                        version,
                        type_name,
                        metadata,
                        recorded_at,
                        key,
                        False,
                        sealed_decoder,
                        data,
                        sealed,
                    )
                )
                continue
            opener = None if ref is None else keys.get(ref, b"" if ref is _MANGLED else None)
            erased = ref is not None and opener is None
            records.append(
                lazy(
                    position,
                    stream,
                    version,
                    type_name,
                    metadata,
                    recorded_at,
                    key,
                    erased,
                    decoder,
                    data,
                    opener,
                )
            )
        return records

    def _open_in_place(self, record: Recorded, text: str, opener: tuple[AESGCM, bytes]) -> Event:
        """`_open` for a row whose seal `_seal_at` found as `seal` writes it, the
        document's last member, with its key's AES-GCM object and key: the sealed fields'
        plain JSON is decrypted and put in the seal's place, and the whole is parsed once
        (not the row, then the sealed fields, then merged: a third of the decoding's CPU).
        Anything unexpected (a seal that does not open, JSON that does not parse, data
        that does not validate) goes to `_open`, which says what it is as it always has."""
        at = text.find(_SEAL_START)  # the one `_seal_at` checked
        aes, key = opener
        try:
            plain = open_sealed(
                aes, text[at + _SEAL_ID : at + _SEAL_ID_END], text[at + _SEAL_CIPHER : -3]
            )
            if plain[:1] != b"{":
                return self._open(record, text, key)
            if plain == b"{}":  # nothing was personal: the seal goes, with its comma
                data = orjson.loads(text[: at - 1 if text[at - 1] == "," else at] + "}")
            else:  # the personal members follow the others, as `unseal` put them
                data = orjson.loads(text[:at].encode() + plain[1:])
            if type(data) is not dict:
                return self._open(record, text, key)
            # Not pydantic's `validate_json` on the joined text: fewer instructions
            # under callgrind, but 7 to 10 % more CPU time per event, old and new
            # alternating in one process (8 December 2026).
            return self.codec.from_data(record.type_name, record.metadata.schema_version, data)
        except (ValueError, KeyError, TypeError, AttributeError, InvalidTag):
            return self._open(record, text, key)

    def _open(self, record: Recorded, text: str, key: bytes | None) -> Event:
        """A stored event's JSON as its event, unsealed with `key` (None: erased)."""
        name, version = record.type_name, record.metadata.schema_version
        data: Any
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            data = f"corrupt JSON: {err}"
        if type(data) is not dict:  # (orjson makes no subclasses)
            if type(data) is not str:
                data = f"corrupt payload: a JSON {type(data).__name__}, not an object"
            log.error("event at position %d (%s) is unreadable: %s", record.position, name, data)
            return UnreadableEvent(type_name=name, error=data)
        try:
            if SEALED not in data:
                return self.codec.from_data(name, version, data)
            if key is None:
                return self._erased(name, version, data)
            return self.codec.from_data(name, version, unseal(data, key))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            # ValueError: the seal does not open; the others: a mangled seal.
            log.error("event at position %d (%s) is unreadable: %s", record.position, name, err)
            return UnreadableEvent(type_name=name, error=str(err))

    def _erased(self, name: str, version: int, data: dict[str, Any]) -> Event:
        data.pop(SEALED)
        cls = self.codec.type_for(name)
        if cls is not None:
            data.update(self.codec.erased_values(cls))
        return self.codec.from_data(name, version, data)


_MANGLED = "\0mangled"  # the key reference of a seal that names none


def _seal_at(text: str) -> int:
    """Where a stored event's seal starts when it is written as `seal` writes it,
    `"$pd":{"k":"<id>","c":"<base64>"}}` closing the document; -1 when it is not."""
    # Found by position (parsing even that member cost more than the rest of a row).
    # A `"$pd":` is never inside a string (the quotes would be escaped); with no quote
    # or backslash after the id's start but the two around `","c":"` and the last one,
    # the member is the top level's last and the id reads as it parses.
    at = text.find(_SEAL_START)
    if (
        at > 0
        and text.endswith('"}}')
        and text.startswith(_SEAL_MIDDLE, at + _SEAL_ID_END)
        and text.find('"', at + _SEAL_ID, at + _SEAL_ID_END) < 0
        and text.find('"', at + _SEAL_CIPHER, -3) < 0
        and text.find("\\", at + _SEAL_ID, -3) < 0
    ):
        return at
    return -1


def _seal_ref(text: str) -> str | None:
    """The key reference of a stored event's sealed fields (None: nothing sealed;
    `_MANGLED`: a seal that names no key), without parsing the whole event when the
    seal is its last member (as `seal` writes it)."""
    at = _seal_at(text)
    if at >= 0:
        return "k:" + text[at + _SEAL_ID : at + _SEAL_ID_END]
    at = text.rfind(_SEALED_MEMBER)
    if at < 0 and SEALED not in text:
        return None  # not sealed (or not JSON: its decode says so)
    sealed: Any = None
    if at > 0 and text[-1] == "}":
        # A `"$pd":` outside any string and followed by exactly one value and the
        # closing brace is the top level's last member.
        # (Not contextlib.suppress: an object per row, on the read path.)
        try:  # noqa: SIM105
            sealed = orjson.loads(text[at + _SEALED_MEMBER_LENGTH : -1])
        except orjson.JSONDecodeError:
            pass
    if type(sealed) is not dict:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict) or SEALED not in data:
            return None
        sealed = data[SEALED]
        if not isinstance(sealed, dict):
            return _MANGLED
    try:
        return key_ref(sealed)
    except (KeyError, TypeError, AttributeError):
        return _MANGLED


_SEALED_MEMBER = f'"{SEALED}":'
_SEALED_MEMBER_LENGTH = len(_SEALED_MEMBER)
_SEAL_START = _SEALED_MEMBER + '{"k":"'
_SEAL_ID = len(_SEAL_START)  # offsets from the member's start
_SEAL_ID_END = _SEAL_ID + 32  # a key id's length (hub.store.crypto.key_id)
_SEAL_MIDDLE = '","c":"'
_SEAL_CIPHER = _SEAL_ID_END + len(_SEAL_MIDDLE)


def _utc(at: datetime | str) -> datetime:
    """A stored time as an aware datetime (SQLite gives naive UTC text)."""
    if isinstance(at, str):
        return datetime.fromisoformat(at).replace(tzinfo=UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


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


def _plan(
    batch: Sequence[tuple[str, int | None, Sequence[NewEvent]]],
    head: int,
    versions: dict[str, int],
    stored: dict[str, int],
) -> tuple[list[tuple[NewEvent, str, int]], list[AppendResult]]:
    """Which events to insert (each with its stream and version; positions follow `head`
    in this order) and each stream's result; ConcurrencyError if a stream moved."""
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
    return planned, results


def _parse_state(rows: Sequence[Any]) -> tuple[int, dict[str, int], dict[str, int]]:
    """The append state's rows as the head, the streams' versions and the stored keys."""
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


@functools.cache
def _time_format(dialect: Any) -> Any:
    processor = events.c.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    return processor


def _sqlite_time(db: Database, now: datetime) -> str:
    """A timestamp as SQLAlchemy stores it on SQLite (for the direct write path)."""
    return str(_time_format(db.writer.dialect)(now))


# PostgreSQL's single append through the driver (psycopg's parameter style): the lock
# and the insert in one query string, run as one transaction.
_PG_INSERT_ONE = re.sub(r"(?<!:):(\w+)", r"%(\1)s", _INSERT_ONE.text)
_PG_APPEND_ONE = f"SELECT pg_advisory_xact_lock(%(lock)s); {_PG_INSERT_ONE}"
_PG_APPEND_ONE_NOT_DURABLE = (
    f"SELECT set_config('synchronous_commit', 'off', true); {_PG_APPEND_ONE}"
)

# The direct SQLite path's statements (sqlite3's own parameter styles).
_INSERT_ROWS = (
    "INSERT INTO events (position, stream, version, type, data, metadata, idempotency_key,"
    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_APPEND_STATE_TEXT = """
    SELECT 'head', NULL, coalesce(max(position), 0) FROM events
    UNION ALL
    SELECT 'version', stream, max(version) FROM events
    WHERE stream IN (SELECT value FROM json_each(:streams)) GROUP BY stream
    UNION ALL
    SELECT 'key', idempotency_key, position FROM events
    WHERE idempotency_key IN (SELECT value FROM json_each(:keys))
"""


def _sqlite_subject_keys(
    conn: sqlite3.Connection,
    subjects: Collection[str],
    stamp: str,
    loaded: dict[str, SubjectKey],
    created: dict[str, SubjectKey],
) -> None:
    """SQLite's direct paths: the subjects' stored keys into `loaded`, new keys for the
    others inserted and put into `created` (as `KeyRing.keys_for_writing`)."""
    rows = conn.execute(
        "SELECT subject, key_id, key FROM subject_keys"
        " WHERE subject IN (SELECT value FROM json_each(?))",
        (orjson.dumps(sorted(subjects)).decode(),),
    ).fetchall()
    for subject, kid, key in rows:
        loaded[subject] = SubjectKey(kid or key_id(bytes(key)), bytes(key))
    new = {s: new_key() for s in subjects if s not in loaded}
    if new:
        conn.executemany(
            "INSERT INTO subject_keys (subject, key_id, key, created_at) VALUES (?, ?, ?, ?)",
            [(s, k.id, k.key, stamp) for s, k in new.items()],
        )
        created.update(new)


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
