"""Connections to the one database that holds the log and the read models."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


T = TypeVar("T")


class UnsupportedDatabaseError(ValueError):
    """The configured URL names a database Kartei does not run on."""


# Alembic's `context` and `op` are module-level proxies: two stores of one process that
# migrate at once (tests run several "processes" in one) must take turns.
_MIGRATING = threading.Lock()


class Database:
    """The writer and reader engines for SQLite or PostgreSQL, and the schema migrations.

    SQLite allows one writer at a time: writes go through one connection that begins with
    BEGIN IMMEDIATE (so a transaction never fails half-way on a lock upgrade) behind an
    in-process lock, while readers use their own connections (WAL lets them read during a
    write). PostgreSQL uses one pool for both.

    Commits are durable (on disk before `write` returns) unless a writer asks otherwise.
    Background writers (projections, policies: work that can wait) queue behind every
    other writer waiting for SQLite's one write connection, so a ringing phone's event is
    not held up by read models catching up.
    """

    def __init__(self, url: str | URL, *, pool_size: int = 5) -> None:
        self.url = make_url(url)
        backend = self.url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise UnsupportedDatabaseError(
                f"database url {self.url.render_as_string()!r}: expected sqlite:/// or postgresql://"
            )
        self.dialect = backend
        self._write_lock: _WriteLock | None = None
        self._synchronous = "FULL"  # for the next SQLite write transaction
        self._direct: _DirectWriter | None = None
        if backend == "sqlite":
            async_url = self.url.set(drivername="sqlite+aiosqlite")
            self.writer = _sqlite_engine(
                async_url, begin="BEGIN IMMEDIATE", pool_size=1, synchronous=self._next_sync
            )
            _roll_back_open_on_return(self.writer)
            self.reader = _sqlite_engine(async_url, begin="BEGIN", pool_size=pool_size)
        else:
            async_url = self.url.set(drivername="postgresql+psycopg")
            self.writer = self.reader = create_async_engine(
                async_url, pool_size=pool_size, max_overflow=pool_size, pool_reset_on_return=None
            )
            _ping_when_idle(self.writer)
            _roll_back_on_return(self.writer)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def libpq_conninfo(self) -> str:
        """The PostgreSQL URL as libpq understands it (for LISTEN connections)."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    @asynccontextmanager
    async def write(
        self, *, durable: bool = True, background: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block ends, rolled back on error.

        `durable=False` commits without waiting for the disk: the transaction survives a
        crash of Kartei but may be lost with the last moments before a power failure. For
        facts where latency matters more (a ringing phone), never for acknowledged mail.
        """
        if self.is_sqlite:
            if self._write_lock is None:
                self._write_lock = _WriteLock()
            await self._write_lock.acquire(background)
            try:
                self._synchronous = "FULL" if durable else "NORMAL"
                async with self.writer.begin() as conn:
                    yield conn
            finally:
                self._write_lock.release()
        else:
            async with self.writer.begin() as conn:
                if not durable:
                    await conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield conn

    @asynccontextmanager
    async def write_deferred(
        self, *, durable: bool = True, background: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """SQLite: `write`, with BEGIN IMMEDIATE left to the transaction's first statement.

        A statement through the connection begins as in `write`; work on the driver's
        own thread (`begin_sqlite` first) begins in its own hop, so a transaction that only
        appends costs two hops to the connection's thread (BEGIN with the append, COMMIT),
        not six (BEGIN, the append, COMMIT, the pool's reset, each through the driver).
        Committed when the block ends, rolled back on error, as `write`."""
        if not self.is_sqlite:
            raise TypeError("write_deferred is for SQLite")
        if self._write_lock is None:
            self._write_lock = _WriteLock()
        await self._write_lock.acquire(background)
        try:
            self._synchronous = "FULL" if durable else "NORMAL"
            async with self.writer.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection  # aiosqlite's
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction():
                        await conn.rollback()
                    # After any hop of the block still on the thread (one cut off);
                    # one cut off inside a statement closed the connection already.
                    if not conn.invalidated and raw._connection is not None:
                        await raw._execute(_roll_back_if_open, raw._conn)
                    raise
                if conn.in_transaction():
                    await conn.commit()
                elif raw._conn.in_transaction:  # begun on the thread; nothing in flight
                    await raw._execute(raw._conn.execute, "COMMIT")
        finally:
            self._write_lock.release()

    def begin_sqlite(self, conn: sqlite3.Connection, info: dict[str, Any]) -> None:
        """On a `write_deferred` connection's thread: BEGIN IMMEDIATE unless begun, with
        the synchronous level set before it as the engine's own BEGIN does (`info`: the
        connection's, as the engine keeps it). A lock not granted raises as there."""
        if conn.in_transaction:
            return
        try:
            level = self._synchronous
            if info.get("synchronous") != level:
                conn.execute(f"PRAGMA synchronous={level}")
                info["synchronous"] = level
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, err) from err

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """SQLite: holds this process's write turn without a transaction, for work on a
        connection of its own (VACUUM); no other writer of this process runs meanwhile."""
        if self._write_lock is None:
            self._write_lock = _WriteLock()
        await self._write_lock.acquire(False)
        try:
            yield
        finally:
            self._write_lock.release()

    def _next_sync(self) -> str:
        return self._synchronous

    async def write_direct(
        self,
        work: Callable[[sqlite3.Connection], T],
        *,
        durable: bool = True,
        background: bool = False,
        committed: Callable[[T], None] | None = None,
    ) -> T:
        """SQLite: `work` in one write transaction on a dedicated connection, in one hop
        to its thread (the async driver makes a hop per statement: BEGIN, each statement,
        COMMIT, the pool's reset). `work` runs blocking SQL only; it takes the same write
        lock as `write`, so the two never overlap.

        `committed(result)` runs on the event loop once the commit is through, even when
        the awaiting task was cancelled meanwhile: a transaction that started finishes
        (committed or rolled back) before the next writer goes.
        """
        if not self.is_sqlite:
            raise TypeError("write_direct is for SQLite")
        if self._write_lock is None:
            self._write_lock = _WriteLock()
        if self._direct is None:
            self._direct = _DirectWriter(str(self.url.database))
        await self._write_lock.acquire(background)
        lock = self._write_lock
        try:
            future = asyncio.get_running_loop().run_in_executor(
                self._direct.thread, self._direct.transaction, work, durable
            )
        except BaseException:
            lock.release()
            raise

        def done(f: asyncio.Future[T]) -> None:
            lock.release()
            if committed is not None and not f.cancelled() and f.exception() is None:
                committed(f.result())

        future.add_done_callback(done)
        return await asyncio.shield(future)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Reads: on SQLite a read transaction with one consistent snapshot; on
        PostgreSQL statements in autocommit, each with its own snapshot.

        PostgreSQL's READ COMMITTED gives each statement a snapshot of its own inside a
        transaction too, so a transaction added nothing to a read but two round trips
        (BEGIN, and the pool's ROLLBACK) and a connection "idle in transaction" for as
        long as the block ran: under load, while the event loop served other tasks
        between one statement and the next. Reads never write; anything that
        needs a snapshot across statements (the backup) opens its own transaction."""
        async with self.reader.connect() as conn:
            if not self.is_sqlite:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def migrate(self) -> None:
        """Creates or upgrades the kernel schema (blocking; call through a thread)."""
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        sync_url = self.url.set(drivername="sqlite" if self.is_sqlite else "postgresql+psycopg")
        engine = sa.create_engine(sync_url, poolclass=sa.NullPool)
        if self.is_sqlite:
            event.listen(engine, "connect", _use_wal)
        try:
            with _MIGRATING, engine.begin() as conn:
                config = AlembicConfig()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            engine.dispose()

    async def dispose(self) -> None:
        if self._direct is not None:
            direct, self._direct = self._direct, None
            await asyncio.get_running_loop().run_in_executor(direct.thread, direct.close)
            direct.thread.shutdown()
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


class _WriteLock:
    """A lock whose background waiters go only when no other writer waits."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    async def acquire(self, background: bool) -> None:
        if not self._held and not any(self._waiting):
            self._held = True
            return
        granted = asyncio.get_running_loop().create_future()
        queue = self._waiting[background]
        queue.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # granted, then cancelled: hand it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(granted)
            raise

    def release(self) -> None:
        for queue in self._waiting:  # everyone else first, then the background
            while queue:
                granted = queue.popleft()
                if not granted.done():
                    granted.set_result(None)  # stays held, by the next writer
                    return
        self._held = False


class _DirectWriter:
    """SQLite's dedicated write connection and the one thread that uses it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="kartei-sqlite-writer")
        self._conn: sqlite3.Connection | None = None
        self._synchronous = ""

    def transaction(self, work: Callable[[sqlite3.Connection], T], durable: bool) -> T:
        conn = self._conn or self._connect()
        level = "FULL" if durable else "NORMAL"
        if level != self._synchronous:  # not inside a transaction: set before BEGIN
            conn.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return result

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=10000")
        cursor = conn.cursor()
        _switch_to_wal(cursor)
        cursor.close()
        conn.execute("PRAGMA foreign_keys=ON")
        self._conn = conn
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# A pooled PostgreSQL connection idle this long is pinged before use (a restarted server
# or a dropped network leaves dead ones in the pool); one used just now is not: the ping
# was a fifth of a single append's round trips.
PING_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pre-ping, for connections that have been idle a while."""
    sync = engine.sync_engine

    @event.listens_for(sync, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["used_at"] = time.monotonic()

    @event.listens_for(sync, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get("used_at")
        if used_at is None or time.monotonic() - used_at < PING_IDLE_SECONDS:
            return  # just connected, or just used
        try:
            alive = sync.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the pool invalidates it and takes another
            raise sa.exc.DisconnectionError(str(err)) from err
        if not alive:
            raise sa.exc.DisconnectionError("the connection did not answer")


def _roll_back_on_return(engine: AsyncEngine) -> None:
    """The pool's reset-on-return (a rollback), done here so that a connection found lost
    on its way back is dropped quietly.

    A connection lost while it was out (PostgreSQL restarted, or psycopg closed it when a
    leaving client's cancellation interrupted its query cancel) cannot roll back; the
    pool's own reset logged that as an ERROR with a traceback, per connection, although
    nothing is wrong with Kartei. Here the record is invalidated instead (the next
    checkout opens a fresh connection) and the loss is logged at INFO."""

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        if state.terminate_only or not state.asyncio_safe or state.transaction_was_reset:
            return  # being closed anyway, outside the event loop, or rolled back already
        try:
            dbapi_connection.rollback()
        except (psycopg.OperationalError, psycopg.InterfaceError) as err:  # lost, closed
            log.info("a pooled connection was lost (%s); it is replaced", err)
            if record is not None:
                record.invalidate(err)


def _roll_back_if_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.rollback()


def _roll_back_open_on_return(engine: AsyncEngine) -> None:
    """SQLite's writer: the pool's reset-on-return, a rollback, only where a transaction
    is open (`write` and `write_deferred` commit or roll back themselves): the rollback
    was a hop to the driver's thread after every write."""

    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        if state.terminate_only or not state.asyncio_safe or state.transaction_was_reset:
            return
        if dbapi_connection._connection._conn.in_transaction:
            dbapi_connection.rollback()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode unless it is already; safe against a second process.

    WAL is a property of the file, set once. Asking for it needs a lock that SQLite refuses
    at once, without the busy wait, while another connection reads or writes, and two
    processes opening a fresh file both see it unset; the loser waits and looks again.
    """
    deadline = time.monotonic() + 10.0
    while True:
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as err:  # sqlite3's or the aiosqlite adapter's OperationalError
            if "locked" not in str(err) and "busy" not in str(err):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _use_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    _switch_to_wal(cursor)
    cursor.close()


def _sqlite_engine(
    url: URL, *, begin: str, pool_size: int, synchronous: Callable[[], str] | None = None
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_reset_on_return="rollback" if synchronous is None else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, record: Any) -> None:
        # Take transaction control from the sqlite3 module, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        _switch_to_wal(cursor)
        # FULL: a commit is on disk before the SMTP intake says 250 (acknowledge after commit).
        cursor.execute("PRAGMA synchronous=FULL")
        record.info["synchronous"] = "FULL"
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        adapted: Any = conn.connection.dbapi_connection  # SQLAlchemy's, around aiosqlite's
        if adapted._connection._conn.in_transaction:
            return  # begun on the driver's thread already (`Database.begin_sqlite`)
        # SQLite refuses to change the level inside a transaction, so it is set before BEGIN
        # (WAL with NORMAL skips the fsync at commit and keeps the database consistent).
        if synchronous is not None and conn.info.get("synchronous") != (level := synchronous()):
            conn.exec_driver_sql(f"PRAGMA synchronous={level}")
            conn.info["synchronous"] = level
        conn.exec_driver_sql(begin)

    @event.listens_for(engine.sync_engine, "invalidate")
    def _roll_back(dbapi_connection: Any, _record: Any, _error: BaseException | None) -> None:
        # A task cancelled inside a statement gets its connection invalidated and closed,
        # but a cursor that never closed keeps sqlite3's handle open (a "zombie"), with the
        # transaction and so the write lock held until that cursor is freed: every later
        # writer waits out busy_timeout and fails. Rolling back first lets go of the lock.
        with contextlib.suppress(Exception):
            dbapi_connection.rollback()

    return engine
