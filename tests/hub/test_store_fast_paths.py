"""The store's fast paths keep its contract: lazily decoded records, SQLite's direct writer."""

from __future__ import annotations

import asyncio
import pickle

import psycopg
import pytest
import sqlalchemy as sa

from hub.events import NewEvent, UnreadableEvent
from hub.store import ANY, NO_STREAM, EventStore, database
from hub.store.schema import events
from tests.hub.events import Pinged, test_codec


@pytest.fixture
async def store(make_store) -> EventStore:  # type: ignore[no-untyped-def]
    return await make_store(test_codec())


async def test_records_say_erased_before_decoding_and_decode_once(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Jörg Müller", contact="c9")])
    await store.append("s-2", NO_STREAM, [Pinged(n=2, who="Anna", contact="c2"), Pinged(n=3)])
    async with store.db.write() as conn:
        assert await store.keys.erase(conn, "contact:c9")
    fresh = EventStore(store.db, test_codec())  # a process that never cached a key

    records = await fresh.read_all()
    assert [r.erased for r in records] == [True, False, False]
    first = records[1].event
    assert first == Pinged(n=2, who="Anna", contact="c2") and records[1].event is first
    assert records[0].event == Pinged(n=1, who="", contact="c9")
    # Read again, decoded or not, the records are equal; pickled, a record keeps its event.
    again = await fresh.read_all()
    assert again == records and hash(again[2]) == hash(records[2])
    assert pickle.loads(pickle.dumps(again[1])) == records[1]
    assert [r.position for r in await fresh.read_all(types={"Pinged"}, limit=2)] == [1, 2]


async def test_a_corrupt_row_reads_as_unreadable_when_decoded(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva", contact="c3")])
    [good] = await store.read_all()
    # A row written past the store (a fixed parser's input, a damaged disk): an event whose
    # seal names no key, one that is no JSON object, one that is no JSON at all.
    async with store.db.write() as conn:
        row = (await conn.execute(sa.select(events).where(events.c.position == 1))).one()
        for position, data in (
            (2, '{"n": 2, "$pd": "not a seal"}'),
            (3, "[1, 2]"),
            (4, '{"n": 4, "$pd": {"k": '),
        ):
            values = {**row._asdict(), "position": position, "data": data}
            values.update(stream=f"bad-{position}", version=1, idempotency_key=None)
            await conn.execute(sa.insert(events).values(**values))
    records = await EventStore(store.db, test_codec()).read_all()
    assert records[0].event == good.event
    assert [type(r.event) for r in records[1:]] == [UnreadableEvent] * 3
    assert not any(r.erased for r in records)


async def test_only_the_top_levels_last_member_is_read_as_the_seal(store: EventStore) -> None:
    """Records say which events are sealed and erased before decoding, from the key id
    read by its position in the row; a seal-like member elsewhere (inside a string, in
    a nested object, before other members) is no seal."""
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva", contact="c3")])
    fake = '{"$pd":{"k":"' + "0" * 32 + '","c":"AAAA"}}'
    rows = {
        2: '{"n": 2, "who": "' + fake.replace('"', '\\"') + '"}',
        3: '{"n": 3, "x": ' + fake + "}",
        4: '{"n": 4, "$pd": {"k": "' + "0" * 32 + '", "c": "AAAA"}, "who": "}}"}',
    }
    async with store.db.write() as conn:
        row = (await conn.execute(sa.select(events).where(events.c.position == 1))).one()
        # The real seal with its id's first character written as a JSON escape.
        at = row.data.index('"k":"') + 5
        rows[5] = row.data[:at] + f"\\u{ord(row.data[at]):04x}" + row.data[at + 1 :]
        for position, data in rows.items():
            values = {**row._asdict(), "position": position, "data": data}
            values.update(stream=f"odd-{position}", version=1, idempotency_key=None)
            await conn.execute(sa.insert(events).values(**values))
    records = await EventStore(store.db, test_codec()).read_all()
    assert [r.erased for r in records] == [False, False, False, True, False]
    assert records[4].event == Pinged(n=1, who="Eva", contact="c3")
    assert records[0].event == Pinged(n=1, who="Eva", contact="c3")
    assert records[1].event == Pinged(n=2, who=fake, contact="c1")
    assert records[3].event == Pinged(n=4, who="", contact="c1")


async def test_cancelled_appends_commit_whole_or_not_at_all(store: EventStore) -> None:
    """A cancelled append commits whole or not at all (SQLite's direct writer finishes a
    transaction it has begun): the next writer goes at once, and what committed reaches
    live readers."""
    follower = store.subscribe()
    await store.append("warm", NO_STREAM, [Pinged(n=0, contact="c1")])  # the key exists
    assert [r.stream for r in await anext(follower)] == ["warm"]
    outcomes = []
    for i in range(30):
        task = asyncio.create_task(
            store.append(f"s-{i}", NO_STREAM, [NewEvent(Pinged(n=i, contact="c1"), f"k{i}")])
        )
        for _ in range(i % 4):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
            outcomes.append(True)
        except asyncio.CancelledError:
            outcomes.append(False)
        # The next append goes through at once, whatever became of the cancelled one.
        await asyncio.wait_for(store.append(f"t-{i}", ANY, [Pinged(n=i, contact="c1")]), 10)
    logged = [r.stream for r in await store.read_all(limit=100)]
    assert len(logged) == len(set(logged))
    for i, finished in enumerate(outcomes):
        assert f"t-{i}" in logged
        if finished:
            assert f"s-{i}" in logged
    seen: list[str] = []
    while len(seen) < len(logged) - 1:
        seen += [r.stream for r in await asyncio.wait_for(anext(follower), 10)]
    assert seen == logged[1:]
    await follower.aclose()  # type: ignore[attr-defined]


async def test_a_connection_the_server_dropped_is_replaced(
    store: EventStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: pooled connections idle for a while are pinged before use."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.2)
    await store.append("s-1", NO_STREAM, [Pinged(n=1)])
    async with await psycopg.AsyncConnection.connect(
        store.db.libpq_conninfo(), autocommit=True
    ) as admin:
        cursor = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'idle' AND query NOT ILIKE 'LISTEN%%'"
        )
        assert await cursor.fetchall()  # the pool's connection, at least
    await asyncio.sleep(0.5)
    await store.append("s-2", NO_STREAM, [Pinged(n=2)])
    assert [r.stream for r in await store.read_all()] == ["s-1", "s-2"]


async def test_transaction_appends_commit_or_roll_back_with_the_callers_rows(
    store: EventStore, backend: str
) -> None:
    """Appends inside `transaction()` (capture with its checkpoint) commit or roll back
    with the caller's own statements, a key made for a new subject included. On SQLite
    they take one hop to the transaction's connection, past SQLAlchemy: no statement of
    theirs goes through it."""
    async with store.db.write() as conn:
        await conn.execute(sa.text("CREATE TABLE checkpoint (name TEXT, n INTEGER)"))
    statements: list[str] = []
    sa.event.listen(
        store.db.writer.sync_engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )
    eva = NewEvent(Pinged(n=1, who="Eva", contact="c7"), "mail:1")
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.append("s-1", NO_STREAM, [eva])
            await tx.connection.execute(sa.text("INSERT INTO checkpoint VALUES ('a', 1)"))
            raise RuntimeError("cut off before the commit")
    assert await store.head() == 0 and store.keys.cached("contact:c7") is None

    async with store.transaction() as tx:
        first = await tx.append("s-1", NO_STREAM, [eva])
        again = await tx.append("s-2", ANY, [eva])  # the same capture key: nothing
        [many] = await tx.append_many(
            [("s-3", NO_STREAM, [Pinged(n=2, who="Eva", contact="c7"), Pinged(n=3, contact="c8")])]
        )
        await tx.connection.execute(sa.text("INSERT INTO checkpoint VALUES ('a', 3)"))
    assert (first.positions, again.positions, again.appended) == ((1,), (1,), 0)
    assert (many.positions, many.version) == ((2, 3), 2)
    if backend == "sqlite":
        assert not [s for s in statements if "events" in s or "subject_keys" in s]
    fresh = EventStore(store.db, test_codec())  # the keys made inside are on disk
    assert [r.event for r in await fresh.read_all()] == [
        Pinged(n=1, who="Eva", contact="c7"),
        Pinged(n=2, who="Eva", contact="c7"),
        Pinged(n=3, contact="c8"),
    ]
    async with store.db.read() as conn:
        assert (await conn.execute(sa.text("SELECT n FROM checkpoint"))).scalars().all() == [3]


async def test_single_appends_leave_the_pooled_connection_as_they_found_it(
    store: EventStore, backend: str
) -> None:
    """PostgreSQL: an append on its own runs as one script in autocommit; a non-durable
    one turns synchronous_commit off for its own transaction only, so the next user of
    the pooled connection commits durably, in a transaction of its own."""
    if backend != "postgresql":
        pytest.skip("the single-append script is PostgreSQL's")
    await store.append("s-1", NO_STREAM, [Pinged(n=1, contact="c1")])  # makes the key
    await store.append("s-2", NO_STREAM, [Pinged(n=2, contact="c1")], durable=False)
    await store.append("s-3", NO_STREAM, [NewEvent(Pinged(n=3, contact="c1"), "k")])
    again = await store.append("s-4", NO_STREAM, [NewEvent(Pinged(n=3, contact="c1"), "k")])
    assert again.positions == (3,) and again.appended == 0  # through the general path
    async with store.db.writer.connect() as conn:
        level = (await conn.exec_driver_sql("SHOW synchronous_commit")).scalar_one()
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None and not driver.autocommit and level == "on"
    assert [r.stream for r in await store.read_all()] == ["s-1", "s-2", "s-3"]
