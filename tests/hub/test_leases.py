"""Leases: one process at a time keeps a projection; the others stand by, wait, take over.

Two stores on one database stand for two processes (two `kartei run`, or a server and a
command beside it).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

from hub.events.notes import NoteAdded
from hub.events.tasks import TaskOpened
from hub.projection import ProjectionRunner
from hub.store import NO_STREAM, EventStore
from hub.store.leases import Leases
from projections.event_stats import EventStats
from projections.tasks import TaskQueue


async def _counts(store: EventStore) -> dict[str, int]:
    async with store.db.read() as conn:
        return await EventStats().counts(conn)


@contextlib.asynccontextmanager
async def running(runner: ProjectionRunner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(runner.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Callable[[], object], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.02)


def runner_on(store: EventStore, ttl: float = 15.0) -> ProjectionRunner:
    runner = ProjectionRunner(store, EventStats())
    runner.leases = Leases(store.db, ttl=ttl)
    return runner


async def test_one_process_keeps_a_projection_the_other_stands_by_and_waits(
    make_store: Callable[..., asyncio.Future[EventStore]],
) -> None:
    first_store, second_store = await make_store(), await make_store()
    first, second = runner_on(first_store), runner_on(second_store)
    async with running(first):
        await until(lambda: first.following)
        async with running(second):
            await until(lambda: second.health.state == "standby")
            assert second.health.details["holder"] == first.leases.owner
            for i in range(20):
                result = await second_store.append(
                    f"task-{i}", NO_STREAM, [TaskOpened(task_id=str(i), title="Rückruf")]
                )
            # The standby process learns from the database when the owner has applied it.
            async with asyncio.timeout(10):
                await second.wait_for(result.positions[-1])
            assert await _counts(second_store) == {"TaskOpened": 20}
            assert first.health.restarts == 0 and first.health.last_error is None
            # A command beside them waits for the owner too, and projects nothing itself.
            assert await runner_on(second_store).bring_up_to_date() == result.positions[-1]
    assert await _counts(first_store) == {"TaskOpened": 20}


async def test_a_command_beside_the_owner_does_not_wait_for_events_the_model_never_reads(
    make_store: Callable[..., asyncio.Future[EventStore]],
) -> None:
    """`kartei privacy audit` beside a running server waited two minutes and failed with
    "projection:tasks did not catch up in time" when the log's newest events were mail: the
    owner reads only task events, so its checkpoint stays at the last of them."""
    first_store, second_store = await make_store(), await make_store()
    first = ProjectionRunner(first_store, TaskQueue())
    first.leases = Leases(first_store.db, ttl=15.0)
    async with running(first):
        await until(lambda: first.following)
        opened = await second_store.append(
            "task-1", NO_STREAM, [TaskOpened(task_id="1", title="Rückruf")]
        )
        async with asyncio.timeout(10):
            await first.wait_for(opened.positions[-1])
        for i in range(3):  # what the model never reads comes last
            await second_store.append(
                f"note-{i}", NO_STREAM, [NoteAdded(note_id=f"n{i}", contact_id="c1", text="x")]
            )
        beside = ProjectionRunner(second_store, TaskQueue())
        beside.leases = Leases(second_store.db, ttl=15.0)
        async with asyncio.timeout(10):  # the old wait gave up after 120 s
            assert await beside.bring_up_to_date() == opened.positions[-1]


async def test_the_standby_takes_over_when_the_owner_stops(
    make_store: Callable[..., asyncio.Future[EventStore]],
) -> None:
    first_store, second_store = await make_store(), await make_store()
    first, second = runner_on(first_store, ttl=0.6), runner_on(second_store, ttl=0.6)
    owner = asyncio.create_task(first.run())
    await until(lambda: first.following)
    async with running(second):
        await until(lambda: second.health.state == "standby")
        await first_store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
        await until(lambda: first.position == 1)
        owner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await owner
        # Stopping released the lease: the standby takes it at its next look, and goes on
        # from the owner's checkpoint.
        await until(lambda: second.following)
        await first_store.append("task-2", NO_STREAM, [TaskOpened(task_id="2", title="b")])
        await until(lambda: second.position == 2)
        assert second.health.state == "ok" and second.health.restarts == 0
    assert await _counts(first_store) == {"TaskOpened": 2}


async def test_a_dead_owners_lease_is_taken_over_once_it_expires(store: EventStore) -> None:
    dead = Leases(store.db, owner="host:4711:dead", ttl=0.5)
    assert await dead.acquire("projection:event_stats")
    runner = runner_on(store, ttl=0.6)
    assert not await runner.leases.acquire(runner.lease)  # still valid: not yet
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    async with running(runner):
        await until(lambda: runner.position == 1, seconds=10)
    assert await dead.holder("projection:event_stats") is None  # released on stop


async def test_a_killed_process_on_this_host_leaves_a_lease_taken_at_once(
    store: EventStore,
) -> None:
    """`kartei run` restarted after SIGKILL or a power cut need not wait out its old lease."""
    probe = await asyncio.create_subprocess_exec("true")  # its id names no process once ended
    await probe.wait()
    dead = Leases(store.db, owner=f"{socket.gethostname()}:{probe.pid}:x", ttl=3600)
    assert await dead.acquire("projection:event_stats")
    elsewhere = Leases(store.db, owner="other-host:1:x", ttl=3600)
    assert await elsewhere.acquire("policy:churn")
    restarted = Leases(store.db)
    assert await restarted.acquire("projection:event_stats")
    assert not await restarted.acquire("policy:churn")  # another host: wait for expiry
