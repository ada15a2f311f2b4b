"""Invariant 5 on the real PostgreSQL: several OS processes append concurrently, and a
live subscriber reading "after position N" sees every event exactly once, in order.

Each writer holds its transaction open for a moment after inserting, which is exactly
when an unserialized position sequence would let a later position commit first and a
reader skip the earlier one for good.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random

import pytest
import sqlalchemy as sa

from hub.store import ANY, Database, EventStore
from hub.store.schema import events
from tests.conftest import new_pg_schema
from tests.hub.events import Pinged, test_codec

WRITERS = 4
TRANSACTIONS = 60


def _writer(url: str, writer: int, start: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    async def main() -> None:
        store = EventStore(Database(url, pool_size=1), test_codec())
        start.wait()
        rng = random.Random(writer)
        try:
            for i in range(TRANSACTIONS):
                async with store.transaction() as tx:
                    batch = [
                        Pinged(n=writer * 10_000 + i * 10 + k) for k in range(rng.randint(1, 3))
                    ]
                    await tx.append(f"w{writer}-{i % 7}", ANY, batch)
                    await asyncio.sleep(rng.random() * 0.004)
        finally:
            await store.close()

    asyncio.run(main())


@pytest.mark.slow
async def test_concurrent_writer_processes_leave_no_gaps(pg_database: str) -> None:
    url = new_pg_schema(pg_database)
    store = EventStore(Database(url), test_codec())
    await store.start()
    try:
        ctx = multiprocessing.get_context("spawn")
        start = ctx.Event()
        procs = [ctx.Process(target=_writer, args=(url, w, start)) for w in range(WRITERS)]
        for p in procs:
            p.start()

        seen: list[int] = []
        writers_done = asyncio.Event()

        async def follow() -> None:
            async for batch in store.subscribe(0, batch_size=7):
                seen.extend(r.position for r in batch)
                if writers_done.is_set() and batch[-1].position >= await store.head():
                    return

        follower = asyncio.create_task(follow())
        start.set()
        async with asyncio.timeout(120):
            while any(p.is_alive() for p in procs):
                await asyncio.to_thread(procs[0].join, 0.2)
            writers_done.set()
            # One more append wakes the follower so it can see that it has caught up.
            await store.append("final", ANY, [Pinged(n=-1)])
            await follower
        assert all(p.exitcode == 0 for p in procs)

        async with store.db.read() as conn:
            stored = list(
                (
                    await conn.execute(sa.select(events.c.position).order_by(events.c.position))
                ).scalars()
            )
        assert len(stored) > WRITERS * TRANSACTIONS
        assert seen == stored, "the subscriber skipped or repeated events"
    finally:
        await store.close()
