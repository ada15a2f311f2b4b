"""The projection and policy runners: exactly-once, rebuildable, failures recorded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from hub.events import NewEvent, Recorded
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskOpened
from hub.policy import PolicyRunner, Reaction
from hub.projection import ProjectionConflictError, ProjectionRunner
from hub.store import ANY, NO_STREAM, EventStore
from hub.store.schema import events, projection_failures
from projections.event_stats import EventStats
from projections.tasks import TaskQueue


async def _counts(store: EventStore, stats: EventStats) -> dict[str, int]:
    async with store.db.read() as conn:
        return await stats.counts(conn)


async def test_catch_up_then_rebuild_gives_the_same_rows(store: EventStore) -> None:
    for i in range(30):
        await store.append(f"task-{i}", NO_STREAM, [TaskOpened(task_id=str(i), title="Rückruf")])
    stats = EventStats()
    runner = ProjectionRunner(store, stats, batch_size=7)
    await runner.prepare()
    reached: list[int] = []
    assert await runner.catch_up(lambda pos, head: reached.append(pos)) == 30
    assert reached[-1] == 30
    before = await _counts(store, stats)
    assert before == {"TaskOpened": 30}
    await runner.rebuild()
    assert await _counts(store, stats) == before


async def test_restart_resumes_from_the_checkpoint(store: EventStore) -> None:
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    stats = EventStats()
    first = ProjectionRunner(store, stats)
    await first.prepare()
    await first.catch_up()
    await store.append("task-2", NO_STREAM, [TaskOpened(task_id="2", title="b")])
    second = ProjectionRunner(store, stats)  # a new process: reads the checkpoint
    await second.prepare()
    assert second.position == 1
    await second.catch_up()
    assert await _counts(store, stats) == {"TaskOpened": 2}


async def test_two_runners_cannot_apply_the_same_batch(store: EventStore) -> None:
    stats = EventStats()
    a, b = ProjectionRunner(store, stats), ProjectionRunner(store, stats)
    await a.prepare()
    await b.prepare()
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    batch = await store.read_all()
    await a.apply(batch)
    with pytest.raises(ProjectionConflictError):
        await b.apply(batch)
    assert await _counts(store, stats) == {"TaskOpened": 1}


async def test_version_bump_rebuilds(store: EventStore) -> None:
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    stats = EventStats()
    runner = ProjectionRunner(store, stats)
    await runner.prepare()
    await runner.catch_up()

    class EventStatsV2(EventStats):
        version = 2

    bumped = ProjectionRunner(store, EventStatsV2())
    await bumped.prepare()
    assert bumped.position == 0
    await bumped.catch_up()
    assert await _counts(store, stats) == {"TaskOpened": 1}


async def test_unreadable_event_is_recorded_and_skipped(store: EventStore) -> None:
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    async with store.db.write() as conn:
        await conn.execute(
            sa.insert(events).values(
                position=2,
                stream="task-2",
                version=1,
                type="TaskOpened",
                data="][",
                metadata="{}",
                recorded_at=sa.func.now(),
            )
        )
    await store.append("task-3", NO_STREAM, [TaskOpened(task_id="3", title="c")])
    queue = TaskQueue()
    runner = ProjectionRunner(store, queue)
    await runner.prepare()
    await runner.catch_up()
    async with store.db.read() as conn:
        assert [t.task_id for t in await queue.unfinished(conn)] == ["1", "3"]
        failures = (await conn.execute(sa.select(projection_failures))).all()
    assert [(f.name, f.position) for f in failures] == [("tasks", 2)]
    assert runner.health.details["failures"] == 1


class OpenTaskOnce:
    """A test policy: every TaskOpened titled 'x' causes a follow-up task."""

    name = "follow-up"
    version = 1
    event_types = ("TaskOpened",)

    async def react(self, batch: Sequence[Recorded]) -> list[Reaction]:
        return [
            Reaction(
                f"task-f{r.position}",
                NewEvent(TaskOpened(task_id=f"f{r.position}", title="follow"), f"fu:{r.position}"),
            )
            for r in batch
            if r.event.title == "x"  # type: ignore[attr-defined]
        ]


async def test_policy_reactions_are_appended_exactly_once(store: EventStore) -> None:
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="x")])
    runner = PolicyRunner(store, OpenTaskOnce())
    await runner.prepare()
    await runner.catch_up()
    restarted = PolicyRunner(store, OpenTaskOnce())
    await restarted.prepare()
    await restarted.catch_up()
    stale = PolicyRunner(store, OpenTaskOnce())  # a runner that missed the checkpoint move
    with pytest.raises(ProjectionConflictError):
        await stale.apply(await store.read_all(0, 1))
    follow = await store.read_all(types=["TaskOpened"])
    assert [r.event.title for r in follow] == ["x", "follow"]  # type: ignore[attr-defined]
    assert runner.position == 1 and restarted.position == 2


async def test_task_queue_lifecycle(store: EventStore) -> None:
    from datetime import UTC, datetime, timedelta

    from hub.events.tasks import TaskAssigned, TaskCompleted, TaskSnoozed

    now = datetime.now(UTC)
    await store.append(
        "task-a", NO_STREAM, [TaskOpened(task_id="a", title="Rückruf", dedupe_key="cb:+4930")]
    )
    await store.append("task-b", NO_STREAM, [TaskOpened(task_id="b", title="Brief", due=now)])
    await store.append("task-a", 1, [TaskAssigned(task_id="a", assignee="eva")])
    await store.append("task-b", 1, [TaskSnoozed(task_id="b", until=now + timedelta(days=1))])
    queue = TaskQueue()
    runner = ProjectionRunner(store, queue)
    await runner.prepare()
    await runner.catch_up()
    async with store.db.read() as conn:
        assert [t.task_id for t in await queue.unfinished(conn, now=now)] == ["a"]
        assert [t.task_id for t in await queue.unfinished(conn, assignee="eva")] == ["a"]
        assert await queue.open_task_with_key(conn, "cb:+4930") == "a"
    await store.append("task-a", ANY, [TaskCompleted(task_id="a", by="eva")])
    await runner.catch_up()
    async with store.db.read() as conn:
        assert await queue.open_task_with_key(conn, "cb:+4930") is None
        done = await queue.get(conn, "a")
    assert done is not None and done.status == "done" and done.completed_at is not None


async def test_caught_up_to_waits_for_the_events_a_projection_reads_before_a_position(
    store: EventStore,
) -> None:
    """The classifier looks a message's sender up in a read model that may still be catching
    up (Kartei started on a backlog): it waits until the read model has applied every event
    it reads before the message, and not for the message itself, which it never reads."""
    await store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="a")])
    note = NoteAdded(note_id="n", contact_id="c-1", text="Rückruf")
    message = await store.append("note-1", NO_STREAM, [note])
    queue = TaskQueue()  # reads task events only
    runner = ProjectionRunner(store, queue)
    waiting = asyncio.create_task(runner.caught_up_to(message.positions[-1]))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # the task before the note is not applied yet
    following = asyncio.create_task(runner.run())
    try:
        async with asyncio.timeout(10):
            await waiting
        assert runner.position >= 1
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
