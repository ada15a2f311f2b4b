"""A daily job that raises, on both databases: its day's run stays unfinished; a job
given `retry_after` is tried again that much later by the same process, one without it
waits for its next time (or the next holder of the lease), as before.

A time coming is the job's next run time set to now, as in tests/hub/test_job_runs.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.bootstrap import _SchedulerComponent
from hub.health import ComponentHealth
from hub.job_runs import JobRuns
from hub.schedule import daily
from hub.store import EventStore
from hub.store.leases import Leases
from tests.hub.test_job_runs import ZONE, today
from tests.hub.test_leases import until

MakeStore = Callable[..., "asyncio.Future[EventStore]"]


class Flaky:
    """A job that fails its first `failures` runs; `tries` counts them all."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries = 0

    async def __call__(self) -> None:
        self.tries += 1
        if self.tries <= self.failures:
            raise OSError("the NAS is gone")


@contextlib.asynccontextmanager
async def holding(
    store: EventStore, job: Flaky, retry_after: timedelta | None
) -> AsyncIterator[AsyncIOScheduler]:
    scheduler = AsyncIOScheduler()
    daily(scheduler, job, "00:00", ZONE, "backup", retry_after=retry_after)
    health = ComponentHealth("scheduler")
    leases = Leases(store.db, owner="here:1:x", ttl=3)
    task = asyncio.create_task(_SchedulerComponent(scheduler, leases, health).run())
    try:
        await until(lambda: health.state == "ok")
        yield scheduler
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def comes(scheduler: AsyncIOScheduler) -> None:
    scheduler.modify_job("backup", next_run_time=datetime.now(scheduler.timezone))


def next_run(scheduler: AsyncIOScheduler) -> datetime:
    job = scheduler.get_job("backup")
    assert job is not None and job.next_run_time is not None
    return job.next_run_time  # type: ignore[no-any-return]


async def unfinished(store: EventStore) -> bool:
    run = await JobRuns(store.db, "test").run("backup", today())
    return run is not None and not run.finished and not run.alive


async def test_a_job_that_raised_is_tried_again_after_its_pause(make_store: MakeStore) -> None:
    store = await make_store()
    job = Flaky(failures=1)
    async with holding(store, job, timedelta(minutes=20)) as scheduler:
        start = datetime.now(scheduler.timezone)
        comes(scheduler)
        pause = timedelta(minutes=20)  # then, not at once nor tomorrow at 00:00
        now = datetime.now
        await until(lambda: start + pause <= next_run(scheduler) <= now(UTC) + pause)
        assert job.tries == 1 and await unfinished(store)
        comes(scheduler)  # twenty minutes later
        await until(lambda: job.tries == 2)
        async with asyncio.timeout(10):
            while await unfinished(store):  # noqa: ASYNC110 - a poll under a timeout
                await asyncio.sleep(0.02)
        tomorrow = next_run(scheduler)
        assert tomorrow.date() == today() + timedelta(days=1)
        assert tomorrow.strftime("%H:%M") == "00:00"


async def test_a_job_without_a_pause_waits_for_its_next_time(make_store: MakeStore) -> None:
    store = await make_store()
    job = Flaky(failures=1)
    async with holding(store, job, None) as scheduler:
        comes(scheduler)
        await until(lambda: job.tries == 1)
        async with asyncio.timeout(10):
            while not await unfinished(store):  # noqa: ASYNC110 - a poll under a timeout
                await asyncio.sleep(0.02)
        tomorrow = next_run(scheduler)
        assert (tomorrow.date(), tomorrow.strftime("%H:%M")) == (
            today() + timedelta(days=1),
            "00:00",
        )
    # The next holder of the lease makes the raised run up at once, as before.
    async with holding(store, job, None):
        await until(lambda: job.tries == 2)
