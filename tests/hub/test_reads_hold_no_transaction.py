"""On PostgreSQL a read holds no transaction open: under load (bench/soak.py, issue 16)
up to 10 pooled connections sat "idle in transaction" for up to a second between a
read's statements while the event loop served other tasks. PostgreSQL gives each
statement of a READ COMMITTED transaction its own snapshot anyway, so reads run in
autocommit. SQLite keeps its read transaction: there it is what gives one snapshot."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from hub.store import Database


async def state_of(db: Database, pid: int) -> str:
    admin = await psycopg.AsyncConnection.connect(db.libpq_conninfo(), autocommit=True)
    async with admin:
        cursor = await admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_read_between_statements_is_idle_not_in_transaction(database_url: str) -> None:
    db = Database(database_url, pool_size=2)
    try:
        async with db.read() as conn:
            pid = int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
            assert await state_of(db, pid) == "idle"
            assert (await conn.execute(sa.text("SELECT 2"))).scalar() == 2
        async with db.write() as conn:  # writes are transactions as before
            pid = int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
            assert await state_of(db, pid) == "idle in transaction"
        async with db.read() as conn:  # the pool's next read is in autocommit again
            pid = int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
            assert await state_of(db, pid) == "idle"
    finally:
        await db.dispose()


async def test_a_sqlite_read_keeps_one_snapshot(database_url: str, backend: str) -> None:
    """Both databases: what a read block sees of a concurrent write (SQLite: nothing,
    one snapshot; PostgreSQL: the committed row, as READ COMMITTED always did)."""
    db = Database(database_url, pool_size=2)
    try:
        async with db.write() as conn:
            await conn.execute(sa.text("CREATE TABLE seen (n INTEGER)"))
        async with db.read() as conn:
            before = (await conn.execute(sa.text("SELECT count(*) FROM seen"))).scalar()
            async with db.write() as other:
                await other.execute(sa.text("INSERT INTO seen VALUES (1)"))
            after = (await conn.execute(sa.text("SELECT count(*) FROM seen"))).scalar()
        assert before == 0
        assert after == (0 if backend == "sqlite" else 1)
    finally:
        await db.dispose()
