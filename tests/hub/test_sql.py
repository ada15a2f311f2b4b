"""The SQL helpers shared by SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from hub.sql import create_tables
from hub.store import Database


async def test_tables_created_by_several_writers_at_once(database_url: str) -> None:
    # Two IMAP accounts starting together both create the checkpoint table; on
    # PostgreSQL one of them used to fail with a unique violation in pg_type.
    tables = sa.MetaData()
    scratch = sa.Table("scratch", tables, sa.Column("x", sa.Integer))
    databases = [Database(database_url) for _ in range(2)]  # as two processes would

    async def create(db: Database) -> None:
        async with db.write() as conn:
            await create_tables(conn, tables)
            await conn.execute(scratch.insert().values(x=1))

    try:
        await asyncio.gather(*(create(db) for db in databases for _ in range(4)))
        async with databases[0].read() as conn:
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(scratch))
            ).scalar() == 8
    finally:
        for db in databases:
            await db.dispose()
