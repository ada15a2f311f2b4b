"""A client that leaves while its request is in a query (the pop's event stream closed, a
page left), and a pooled connection the server dropped while it was out (PostgreSQL
restarted), are normal events: no ERROR in the log, and the pool goes on serving.
Found by bench/soak.py (issue 16): SQLAlchemy's reset-on-return logged "Exception during
reset or similar" with a traceback for each lost connection."""

from __future__ import annotations

import logging

import anyio
import psycopg
import pytest
import sqlalchemy as sa

from hub.store import Database

# Long enough to be cancelled in the middle: a server-side sleep, or SQLite counting.
SLOW = {
    "postgresql": "SELECT pg_sleep(5)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000)"
    " SELECT count(*) FROM c",
}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def serves(db: Database) -> None:
    async with db.read() as conn:
        assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1


async def test_a_client_leaving_during_a_query_logs_no_error(
    database_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(database_url, pool_size=2)
    caplog.set_level(logging.INFO)
    try:

        async def request() -> None:
            async with db.read() as conn:
                await conn.execute(sa.text(SLOW[backend]))

        # Starlette cancels a left request's task through an anyio cancel scope, which
        # delivers the cancellation again and again until the task ends.
        with anyio.move_on_after(10) as deadline:
            async with anyio.create_task_group() as group:
                group.start_soon(request)
                await anyio.sleep(0.3)
                group.cancel_scope.cancel()
        assert not deadline.cancel_called
        for _ in range(3):  # every pooled connection works (a lost one was replaced)
            await serves(db)
        assert errors(caplog) == []
    finally:
        await db.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_connection_lost_while_out_is_replaced_quietly(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(database_url, pool_size=2)
    caplog.set_level(logging.INFO)
    try:
        # The server ends the connection (as a restart does) while it is out, inside a
        # transaction that only the driver knows of (as after a failed rollback): giving
        # it back, the pool's reset rolls back on a lost connection. (A pooled connection
        # as such: `db.read()` runs in autocommit, with no transaction to roll back.)
        async with db.reader.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            cursor = await driver.execute("SELECT pg_backend_pid()")
            pid = (await cursor.fetchone())[0]
            admin = await psycopg.AsyncConnection.connect(db.libpq_conninfo(), autocommit=True)
            async with admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            await anyio.sleep(0.2)
        for _ in range(3):
            await serves(db)
        assert errors(caplog) == []
    finally:
        await db.dispose()
