"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports `on_conflict_do_update/_nothing` and `excluded` on both
    databases (their APIs match)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    conn: AsyncConnection, table: sa.Table, index: list[str], columns: list[str]
) -> sqlite.Insert | postgresql.Insert:
    """INSERT ... ON CONFLICT (index) DO UPDATE SET each of `columns` to the new value."""
    stmt = dialect_insert(conn, table)
    return stmt.on_conflict_do_update(
        index_elements=index, set_={name: stmt.excluded[name] for name in columns}
    )


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A moment that reads back as the moment written, timezone-aware, on both databases.

    PostgreSQL's timestamptz keeps the moment. SQLite has no timestamp type: SQLAlchemy
    writes an aware value's wall-clock digits without its offset and reads them back naive,
    so a task due at 00:00 in Berlin came back as 00:00 of no zone (an hour late once read
    as UTC, and a TypeError when compared with an aware "now"). Stored in UTC, read as UTC;
    a naive value written is taken as UTC, as the store takes its own timestamps."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else aware(value).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else aware(value).astimezone(UTC)


def aware(moment: datetime) -> datetime:
    """The moment with its zone; a naive one is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


SCHEMA_LOCK_ID = 0x4B415253  # "KARS"


async def create_tables(conn: AsyncConnection, tables: sa.MetaData) -> None:
    """Creates the tables of `tables` that are missing.

    Two PostgreSQL sessions creating the same table at once make one fail (a unique
    violation in pg_type: CREATE TABLE IF NOT EXISTS does not guard against a concurrent
    creator), so creators take a transaction-scoped advisory lock first. On SQLite the
    write transaction already holds the database's one write lock."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": SCHEMA_LOCK_ID})
    await conn.run_sync(tables.create_all, checkfirst=True)
