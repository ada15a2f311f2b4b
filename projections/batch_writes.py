"""A projection's writes for one batch, sent to SQLite in one hop.

The async SQLite driver runs each statement on its connection's thread, and SQLAlchemy
makes three trips there per statement (cursor, execute, close): for a batch of mail that
was more of the event loop's time than building the rows (py-spy on a first sync). On
SQLite, `write` compiles each statement once, binds the rows as SQLAlchemy would (its
own bind processors: the same values reach the database) and runs all of a batch's
statements in one call on the driver's thread, inside the caller's transaction. On
PostgreSQL each statement goes through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

Rows = Sequence[Mapping[str, Any]]


class BatchWriter:
    """Runs (statement, rows) pairs in order, each as an executemany."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}

    async def write(
        self, conn: AsyncConnection, writes: Sequence[tuple[sa.Executable, Rows]]
    ) -> None:
        writes = [(statement, rows) for statement, rows in writes if rows]
        if not writes:
            return
        if conn.dialect.name != "sqlite":
            for statement, rows in writes:
                await conn.execute(statement, list(rows))
            return
        work = [(self._compile(conn, statement, rows), rows) for statement, rows in writes]
        jobs = [(compiled.sql, [compiled.bind(row) for row in rows]) for compiled, rows in work]
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None

        def run() -> None:
            db: sqlite3.Connection = driver._conn  # aiosqlite's, on its own thread
            if not db.in_transaction:  # never expected: the caller's write began one
                raise RuntimeError("the SQLite write transaction has not begun")
            for sql, parameters in jobs:
                db.executemany(sql, parameters)

        await driver._execute(run)  # in turn with the connection's other statements

    def _compile(self, conn: AsyncConnection, statement: sa.Executable, rows: Rows) -> _Compiled:
        keys = tuple(rows[0])
        found = self._compiled.get((id(statement), keys))
        if found is None or found.statement is not statement:
            found = _Compiled(statement, conn.dialect, keys)
            self._compiled[(id(statement), keys)] = found
        return found


class _Compiled:
    """A statement compiled for SQLite's positional parameters, with its bind processors."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...]):
        self.statement = statement  # kept alive: the cache is keyed by its id
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        self.compiled = compiled
        names: Sequence[str] = compiled.positiontup or ()
        processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors
        self.binds = [(name, processors.get(name)) for name in names]

    def bind(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = self.compiled.construct_params(row)
        return tuple(
            values[name] if process is None else process(values[name])
            for name, process in self.binds
        )
