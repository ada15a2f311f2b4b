"""Appends inside `EventStore.transaction()` commit with the caller's statements, or not
at all, also when the append is cut off while it waits for the append lock."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
import sqlalchemy as sa

from hub.events import NewEvent
from hub.store import ANY, NO_STREAM, ConcurrencyError, EventStore
from hub.store.store import APPEND_LOCK_ID
from tests.hub.events import Pinged, test_codec

NOTE = sa.text("INSERT INTO tx_notes VALUES (:n)")


async def test_an_append_and_the_callers_row_commit_together(make_store) -> None:  # type: ignore[no-untyped-def]
    store: EventStore = await make_store(test_codec())
    await store.append("s-0", NO_STREAM, [Pinged(n=0, who="Eva", contact="c1")])  # the key
    async with store.db.write() as conn:
        await conn.execute(sa.text("CREATE TABLE tx_notes (n INTEGER)"))
    async with store.transaction() as tx:
        result = await tx.append("s-1", NO_STREAM, [NewEvent(Pinged(n=1, who="Eva"), "k-1")])
        await tx.connection.execute(NOTE, {"n": 1})
    assert (result.positions, result.version, result.appended) == ((2,), 1, 1)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.append("s-2", NO_STREAM, [Pinged(n=2, who="Eva")])
            await tx.connection.execute(NOTE, {"n": 2})
            raise RuntimeError
    async with store.transaction() as tx:  # a repeat of the key appends nothing
        again = await tx.append("s-9", NO_STREAM, [NewEvent(Pinged(n=1, who="Eva"), "k-1")])
    assert (again.positions, again.appended) == ((2,), 0)
    records = await EventStore(store.db, test_codec()).read_all()
    assert [(r.stream, r.event) for r in records] == [
        ("s-0", Pinged(n=0, who="Eva")),
        ("s-1", Pinged(n=1, who="Eva")),
    ]
    async with store.db.read() as conn:
        assert (await conn.execute(sa.text("SELECT n FROM tx_notes"))).scalars().all() == [1]


async def test_an_append_cut_off_at_the_lock_leaves_nothing_and_the_store_usable(
    make_store, backend: str, database_url: str
) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("SQLite's writers queue in the process; there is no lock to wait at")
    store: EventStore = await make_store(test_codec())
    await store.append("s-0", NO_STREAM, [Pinged(n=0, who="Eva", contact="c1")])  # the key
    conninfo = store.db.libpq_conninfo()
    async with await psycopg.AsyncConnection.connect(conninfo) as holder:
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_ID,))

        async def append() -> None:
            async with store.transaction() as tx:
                await tx.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva")])

        task = asyncio.create_task(append())
        await asyncio.sleep(0.5)  # waiting for the lock the holder has
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await holder.rollback()  # the lock is free again
    async with asyncio.timeout(10):
        for n in range(2, 12):  # every pooled connection in turn works
            async with store.transaction() as tx:
                await tx.append(f"s-{n}", NO_STREAM, [Pinged(n=n, who="Eva")])
    records = await EventStore(store.db, test_codec()).read_all()
    assert [r.stream for r in records] == ["s-0", *(f"s-{n}" for n in range(2, 12))]
    assert [r.position for r in records] == list(range(1, 12))


async def test_append_many_in_a_transaction_reads_back_and_a_moved_stream_adds_nothing(
    make_store,
) -> None:  # type: ignore[no-untyped-def]
    store: EventStore = await make_store(test_codec())
    async with store.db.write() as conn:
        await conn.execute(sa.text("CREATE TABLE tx_notes (n INTEGER)"))
    async with store.transaction() as tx:  # a caller's statement alone commits too
        await tx.connection.execute(NOTE, {"n": 0})
    batch = [
        ("m-1", NO_STREAM, [NewEvent(Pinged(n=1, who="Eva"), "k-1")]),
        ("m-2", NO_STREAM, [NewEvent(Pinged(n=2, who="Ida", contact="c2"), "k-2")]),
        ("m-3", ANY, [NewEvent(Pinged(n=3, who="Eva"), "k-1")]),  # a repeat of the key
        ("m-2", 1, [NewEvent(Pinged(n=4, who="Ida", contact="c2"), "k-4")]),
    ]
    async with store.transaction() as tx:
        results = await tx.append_many(batch)
        await tx.connection.execute(NOTE, {"n": 1})
    assert [(r.positions, r.version, r.appended) for r in results] == [
        ((1,), 1, 1),
        ((2,), 1, 1),
        ((1,), 0, 0),
        ((3,), 2, 1),
    ]
    again = [
        ("m-5", NO_STREAM, [NewEvent(Pinged(n=5, who="Eva"), "k-5")]),
        ("m-1", NO_STREAM, [NewEvent(Pinged(n=6, who="Eva"), "k-6")]),  # m-1 exists
        ("m-7", NO_STREAM, [NewEvent(Pinged(n=7, who="Eva"), "k-7")]),
    ]
    with pytest.raises(ConcurrencyError):
        async with store.transaction() as tx:
            await tx.connection.execute(NOTE, {"n": 2})
            await tx.append_many(again)
    with pytest.raises(RuntimeError):  # appends alone, then the caller's error
        async with store.transaction() as tx:
            await tx.append_many([("m-9", NO_STREAM, [NewEvent(Pinged(n=9), "k-9")])])
            raise RuntimeError
    async with store.transaction(durable=False) as tx:  # usable after the failures
        [after] = await tx.append_many([("m-8", NO_STREAM, [NewEvent(Pinged(n=8), "k-8")])])
    assert after.positions == (4,)
    records = await EventStore(store.db, test_codec()).read_all()
    assert [(r.position, r.stream, r.version, r.idempotency_key, r.event) for r in records] == [
        (1, "m-1", 1, "k-1", Pinged(n=1, who="Eva")),
        (2, "m-2", 1, "k-2", Pinged(n=2, who="Ida", contact="c2")),
        (3, "m-2", 2, "k-4", Pinged(n=4, who="Ida", contact="c2")),
        (4, "m-8", 1, "k-8", Pinged(n=8)),
    ]
    async with store.db.read() as conn:
        notes = (await conn.execute(sa.text("SELECT n FROM tx_notes ORDER BY n"))).scalars()
        assert notes.all() == [0, 1]
