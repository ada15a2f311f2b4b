"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

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
