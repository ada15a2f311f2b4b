"""The event store's contract, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import sqlalchemy as sa

from hub.events import NewEvent, Recorded, UnknownEvent, UnreadableEvent
from hub.store import ANY, NO_STREAM, ConcurrencyError, EventStore, EventTooLargeError
from hub.store.schema import events, subject_keys
from tests.hub.events import Pinged, Renamed, test_codec


@pytest.fixture
async def store(make_store) -> EventStore:  # type: ignore[no-untyped-def]
    return await make_store(test_codec())


async def test_append_and_read_stream(store: EventStore) -> None:
    result = await store.append("s-1", NO_STREAM, [Pinged(n=1), Pinged(n=2)])
    assert result.version == 2 and result.appended == 2
    assert result.positions[1] == result.positions[0] + 1
    await store.append("s-1", 2, [Pinged(n=3)])
    recorded = await store.read_stream("s-1")
    assert [r.event for r in recorded] == [Pinged(n=1), Pinged(n=2), Pinged(n=3)]
    assert [r.version for r in recorded] == [1, 2, 3]
    assert [r.event.n for r in await store.read_stream("s-1", from_version=3)] == [3]
    assert recorded[0].recorded_at.tzinfo is not None


async def test_wrong_expected_version_names_stream_and_versions(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1)])
    with pytest.raises(ConcurrencyError) as caught:
        await store.append("s-1", NO_STREAM, [Pinged(n=2)])
    assert (caught.value.stream, caught.value.expected, caught.value.actual) == ("s-1", 0, 1)
    assert "'s-1'" in str(caught.value) and "version 1" in str(caught.value)
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", 5, [Pinged(n=2)])
    assert len(await store.read_stream("s-1")) == 1


async def test_idempotency_key_appends_nothing_twice(store: EventStore) -> None:
    first = await store.append("s-1", ANY, [NewEvent(Pinged(n=1), "mail:<a@b>")])
    again = await store.append("s-2", ANY, [NewEvent(Pinged(n=1), "mail:<a@b>")])
    assert again.positions == first.positions and again.appended == 0
    # A redelivery is not a concurrency conflict, even with a stale expected version.
    stale = await store.append("s-1", NO_STREAM, [NewEvent(Pinged(n=1), "mail:<a@b>")])
    assert stale.positions == first.positions
    assert await store.read_stream("s-2") == []
    assert await store.head() == first.positions[0]


async def test_repeated_key_within_one_batch(store: EventStore) -> None:
    result = await store.append(
        "s-1", NO_STREAM, [NewEvent(Pinged(n=1), "k"), NewEvent(Pinged(n=1), "k"), Pinged(n=2)]
    )
    assert result.appended == 2
    assert result.positions[0] == result.positions[1] != result.positions[2]


async def test_append_many_streams_in_one_go(store: EventStore) -> None:
    await store.append("s-2", NO_STREAM, [NewEvent(Pinged(n=0), "stored")])
    async with store.transaction() as tx:
        results = await tx.append_many(
            [
                ("s-1", NO_STREAM, [Pinged(n=1, who="Jörg", contact="c1"), Pinged(n=2)]),
                ("s-2", 1, [NewEvent(Pinged(n=3, who="Anna", contact="c2"), "new")]),
                ("s-3", ANY, [NewEvent(Pinged(n=4), "stored")]),  # a redelivery
                ("s-1", 2, [NewEvent(Pinged(n=5), "new")]),  # a repeat of a key in the batch
                ("s-1", 2, [Pinged(n=6, who="Jörg", contact="c1")]),  # sees the version above
            ]
        )
    assert [(r.version, r.appended) for r in results] == [(2, 2), (2, 1), (0, 0), (2, 0), (3, 1)]
    assert results[0].positions == (2, 3) and results[1].positions == (4,)
    assert results[2].positions == (1,) and results[3].positions == (4,)
    assert results[4].positions == (5,)
    assert [r.event.n for r in await store.read_all()] == [0, 1, 2, 3, 6]  # type: ignore[attr-defined]
    assert [r.version for r in await store.read_stream("s-1")] == [1, 2, 3]
    fresh = EventStore(store.db, test_codec())  # keys made in the batch are on disk
    assert [r.event.who for r in await fresh.read_stream("s-1")] == ["Jörg", "", "Jörg"]  # type: ignore[attr-defined]
    async with store.db.read() as conn:
        subjects = sorted((await conn.execute(sa.select(subject_keys.c.subject))).scalars())
        raw = "".join((await conn.execute(sa.select(events.c.data))).scalars())
    assert subjects == ["contact:c1", "contact:c2"] and "Anna" not in raw


async def test_append_many_conflict_writes_nothing(store: EventStore) -> None:
    await store.append("s-2", NO_STREAM, [Pinged(n=0)])
    with pytest.raises(ConcurrencyError) as caught:
        async with store.transaction() as tx:
            await tx.append_many(
                [
                    ("s-1", NO_STREAM, [Pinged(n=1, who="Eva", contact="c7")]),
                    ("s-2", 0, [Pinged(n=2)]),
                ]
            )
    assert (caught.value.stream, caught.value.expected, caught.value.actual) == ("s-2", 0, 1)
    assert await store.head() == 1 and await store.read_stream("s-1") == []


async def test_update_and_delete_are_refused_by_the_database(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1)])
    for statement in (
        sa.update(events).values(type="Forged"),
        sa.delete(events),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with store.db.write() as conn:
                await conn.execute(statement)
    if not store.db.is_sqlite:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with store.db.write() as conn:
                await conn.execute(sa.text("TRUNCATE events"))
    assert [r.type_name for r in await store.read_all()] == ["Pinged"]


async def test_too_large_event_writes_nothing(make_store) -> None:  # type: ignore[no-untyped-def]
    store = await make_store(test_codec(), max_event_bytes=2048)
    with pytest.raises(EventTooLargeError, match="limit is 2048"):
        await store.append("s-1", NO_STREAM, [Pinged(n=1), Renamed(name="x" * 5000)])
    assert await store.head() == 0


async def test_corrupt_payload_is_reported_and_reading_goes_on(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1)])
    async with store.db.write() as conn:
        row = {
            "position": 2,
            "stream": "s-1",
            "version": 2,
            "type": "Pinged",
            "data": "{not json",
            "metadata": "{}",
            "recorded_at": sa.func.now(),
        }
        await conn.execute(sa.insert(events).values(**row))
    async with store.db.write() as conn:
        for position, data in ((3, "[1, 2]"), (4, '{"$pd": {"s": "contact:x", "c": 5}}')):
            await conn.execute(
                sa.insert(events).values(
                    **{**row, "position": position, "version": position, "data": data}
                )
            )
    await store.append("s-1", 4, [Pinged(n=5)])
    read = await store.read_all()
    assert [type(r.event) for r in read] == [
        Pinged,
        UnreadableEvent,
        UnreadableEvent,
        UnreadableEvent,
        Pinged,
    ]
    assert "corrupt JSON" in read[1].event.error  # type: ignore[attr-defined]
    assert "not an object" in read[2].event.error  # type: ignore[attr-defined]


async def test_unknown_and_newer_types_read_back(store: EventStore) -> None:
    async with store.db.write() as conn:
        for position, (name, version) in enumerate((("FromTheFuture", 1), ("Pinged", 9)), 1):
            await conn.execute(
                sa.insert(events).values(
                    position=position,
                    stream=f"s-{name}",
                    version=1,
                    type=name,
                    data='{"n": 1, "extra": true}',
                    metadata=orjson.dumps({"schema_version": version}).decode(),
                    recorded_at=sa.func.now(),
                )
            )
    read = await store.read_all()
    assert all(isinstance(r.event, UnknownEvent) for r in read)
    assert read[1].event.stored_schema_version == 9  # type: ignore[attr-defined]


async def test_old_schema_versions_are_upcast(store: EventStore) -> None:
    async with store.db.write() as conn:
        await conn.execute(
            sa.insert(events).values(
                position=1,
                stream="r",
                version=1,
                type="Renamed",
                data='{"title": "old"}',
                metadata='{"schema_version": 1}',
                recorded_at=sa.func.now(),
            )
        )
    [recorded] = await store.read_stream("r")
    assert recorded.event == Renamed(name="old")
    # Readers of raw data (read models opening sealed fields) upcast the same way.
    assert store.codec.upcast("Renamed", 1, {"title": "old"}) == {"name": "old"}
    for name, version in (("Renamed", 3), ("Vanished", 1)):
        with pytest.raises(LookupError):
            store.codec.upcast(name, version, {})


async def test_personal_fields_are_sealed_and_erasable(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Jörg Müller", contact="c9")])
    await store.append("s-2", NO_STREAM, [Pinged(n=2, who="Anna", contact="c2")])
    async with store.db.read() as conn:
        raw = (await conn.execute(sa.select(events.c.data).order_by(events.c.position))).scalars()
        stored = list(raw)
    assert "Müller" not in stored[0] and "J\\u00f6rg" not in stored[0] and "$pd" in stored[0]
    assert (await store.read_stream("s-1"))[0].event.who == "Jörg Müller"  # type: ignore[attr-defined]

    async with store.db.write() as conn:
        assert await store.keys.erase(conn, "contact:c9")
    fresh = EventStore(store.db, test_codec())  # a process that never cached the key
    [erased] = await fresh.read_stream("s-1")
    assert erased.erased and erased.event == Pinged(n=1, who="", contact="c9")
    [kept] = await fresh.read_stream("s-2")
    assert not kept.erased and kept.event.who == "Anna"  # type: ignore[attr-defined]
    async with store.db.read() as conn:
        subjects = set((await conn.execute(sa.select(subject_keys.c.subject))).scalars())
    assert subjects == {"contact:c2"}


async def test_failed_append_leaves_no_key_behind(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=0, contact="other")])
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", NO_STREAM, [Pinged(n=1, who="Eva", contact="c7")])
    await store.append("s-2", NO_STREAM, [Pinged(n=2, who="Eva", contact="c7")])
    fresh = EventStore(store.db, test_codec())
    assert (await fresh.read_stream("s-2"))[0].event.who == "Eva"  # type: ignore[attr-defined]


async def test_read_all_in_batches_and_filters(store: EventStore) -> None:
    for i in range(25):
        await store.append(f"a-{i % 3}", ANY, [Pinged(n=i)])
    await store.append("b-1", ANY, [Renamed(name="x")])
    batches = [len(b) async for b in store.iter_all(batch_size=10)]
    assert batches == [10, 10, 6]
    assert [r.type_name for r in await store.read_all(types=["Renamed"])] == ["Renamed"]
    assert len(await store.read_all(stream_prefix="a-1")) == 8
    assert len(await store.read_all(after=20)) == 6


async def test_subscription_catches_up_then_follows_live(store: EventStore) -> None:
    await store.append("s-1", NO_STREAM, [Pinged(n=1), Pinged(n=2)])
    seen: list[int] = []
    done = asyncio.Event()

    async def follow() -> None:
        async for batch in store.subscribe(0):
            seen.extend(r.event.n for r in batch)  # type: ignore[attr-defined]
            if len(seen) == 4:
                done.set()
                return

    task = asyncio.create_task(follow())
    for n in (3, 4):
        await store.append("s-2", ANY, [Pinged(n=n)])
    async with asyncio.timeout(10):
        await done.wait()
    await task
    assert seen == [1, 2, 3, 4]


async def test_subscription_sees_appends_of_another_store(make_store) -> None:  # type: ignore[no-untyped-def]
    """Two stores on one database stand for two processes: live delivery crosses them
    (PostgreSQL LISTEN/NOTIFY; on SQLite the file watch)."""
    reader = await make_store(test_codec())
    writer = await make_store(test_codec())
    got = asyncio.Event()

    async def follow() -> None:
        async for batch in reader.subscribe(0):
            if any(r.event.n == 42 for r in batch):  # type: ignore[attr-defined]
                got.set()
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    await writer.append("s-1", NO_STREAM, [Pinged(n=42)])
    async with asyncio.timeout(10):
        await got.wait()
    await task


async def test_live_readers_share_one_tail_and_fall_back_when_behind(store: EventStore) -> None:
    from hub.store.tail import Tail

    tail = Tail(store, size=10)
    assert await tail.after(0, 100, None) == []  # starts at the head: nothing new yet
    for n in range(40):
        await store.append(f"s-{n % 3}", ANY, [Renamed(name=str(n)) if n % 4 else Pinged(n=n)])
    caught_up = await tail.after(30, 100, None)
    assert caught_up is not None and [r.position for r in caught_up] == list(range(31, 41))
    pinged = await tail.after(30, 100, ["Pinged"])
    assert pinged is not None and [r.event.n for r in pinged] == [32, 36]  # type: ignore[attr-defined]
    assert [r.position for r in await tail.after(30, 3, None) or []] == [31, 32, 33]
    of_s1 = await tail.after(30, 100, None, "s-1")
    assert of_s1 is not None and [r.position for r in of_s1] == [32, 35, 38]
    assert await tail.after(5, 100, None) is None  # trimmed away: read the database


async def test_non_durable_commits_skip_the_disk_wait_only_when_asked(store: EventStore) -> None:
    query = "PRAGMA synchronous" if store.db.is_sqlite else "SHOW synchronous_commit"
    full, relaxed = ("2", "1") if store.db.is_sqlite else ("on", "off")
    levels = []
    for durable in (True, False, False, True):
        async with store.transaction(durable=durable) as tx:
            await tx.append("s-1", ANY, [Pinged(n=1)])
            levels.append(str((await tx.connection.exec_driver_sql(query)).scalar_one()))
    assert levels == [full, relaxed, relaxed, full]
    assert len(await store.read_stream("s-1")) == 4


async def test_background_writers_wait_behind_every_other_writer(store: EventStore) -> None:
    if not store.db.is_sqlite:
        pytest.skip("PostgreSQL writers have their own connections; there is no queue")
    order: list[str] = []

    async def write(name: str, background: bool) -> None:
        async with store.db.write(background=background):
            order.append(name)

    async with store.db.write():
        tasks = [asyncio.create_task(write("projection", True))]
        await asyncio.sleep(0)  # queued first
        cancelled = asyncio.create_task(write("gone", False))
        await asyncio.sleep(0)
        cancelled.cancel()
        tasks.append(asyncio.create_task(write("ring", False)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == ["ring", "projection"]
    async with asyncio.timeout(5):  # a cancelled waiter leaves the lock free
        async with store.db.write(background=True):
            pass


async def test_a_writer_cancelled_inside_a_statement_leaves_nothing_locked(
    store: EventStore,
) -> None:
    # A TaskGroup cancels a sibling that may be mid-statement (an IMAP chunk's commit when
    # the fetch beside it fails). On SQLite the cancelled connection used to keep the
    # write lock, and every later writer failed with "database is locked".
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000)"
        " SELECT count(*) FROM c"
    )
    started = asyncio.Event()

    async def write() -> None:
        async with store.transaction() as tx:
            await tx.append("s-1", ANY, [Pinged(n=1)])
            started.set()
            await tx.connection.exec_driver_sql(slow)

    task = asyncio.create_task(write())
    await started.wait()
    await asyncio.sleep(0.2)  # inside the slow statement
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.append("s-2", NO_STREAM, [Pinged(n=2)])
    assert [r.event for r in await store.read_all(0, 10)] == [Pinged(n=2)]


async def follow_until(store: EventStore, count: int) -> asyncio.Task[list[Recorded]]:
    """A live reader (as a projection is), collecting `count` events."""
    seen: list[Recorded] = []

    async def follow() -> list[Recorded]:
        async for batch in store.subscribe(await store.head()):
            seen.extend(batch)
            if len(seen) >= count:
                return seen
        return seen

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.1)  # the reader has started its tail
    return task


async def test_live_readers_get_this_process_events_as_they_read_back(make_store) -> None:  # type: ignore[no-untyped-def]
    """Events committed here reach live readers without being read and unsealed again
    (on PostgreSQL only when the commit's own notification does not wake them first);
    another process's events are read from the database. Either way a reader gets what
    `read_all` decodes."""
    store = await make_store(test_codec())
    other = await make_store(test_codec())  # another process on the same database
    reader = await follow_until(store, 6)
    mine = Pinged(n=1, who="Jürgen")
    await store.append("s-1", NO_STREAM, [NewEvent(mine, "k-1")])  # the one-row path
    await other.append("s-2", NO_STREAM, [Pinged(n=2, who="Anna")])
    await store.append("s-1", ANY, [NewEvent(mine, "k-1")])  # a repeat: nothing new
    async with store.transaction() as tx:  # the batch path, several streams
        await tx.append_many(
            [("s-3", ANY, [Pinged(n=3, who="Ö"), Renamed(name="x")]), ("s-4", ANY, [Pinged(n=4)])]
        )
    with pytest.raises(RuntimeError):  # rolled back: never reaches a reader
        async with store.transaction() as tx:
            await tx.append("s-5", ANY, [Pinged(n=99)])
            raise RuntimeError
    await other.append("s-2", ANY, [Renamed(name="y")])
    async with asyncio.timeout(10):
        live = await reader
    stored = await store.read_all(0, 100)
    assert live == stored
    assert [r.position for r in live] == [1, 2, 3, 4, 5, 6]
    assert live[1].event is not stored[1].event  # another process's: decoded
    if store.db.is_sqlite:  # (PostgreSQL's notification may wake the reader first)
        assert live[0].event is mine  # taken as committed, not decoded
