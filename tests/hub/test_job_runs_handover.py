"""The daily backup when the scheduler's lease changes hands around its time: a run that
no process started (the holder died just before it, the only process was down over it)
is made up once by the process that takes the lease; a run still going in the process
that lost the lease is not started a second time while that process's heartbeat is
fresh, and is started again once it has stopped.

Two schedulers on one database stand for two `kartei run` processes, as in
tests/hub/test_job_runs.py; the test job's time is 00:00 in the firm's zone, so it has
always passed today. Time passing for a heartbeat is its row written half a minute back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

import hub.job_runs
from hub.bootstrap import _SchedulerComponent
from hub.health import ComponentHealth
from hub.job_runs import JobRuns
from hub.schedule import daily
from hub.store import EventStore
from hub.store.leases import LeaseLostError, Leases
from hub.store.schema import leases
from tests.hub.test_job_runs import ZONE, finished, heartbeat_stopped_long_ago, today
from tests.hub.test_leases import until

MakeStore = Callable[..., Awaitable[EventStore]]


class Process:
    """One process's scheduler with a daily backup at 00:00 that runs `backup`."""

    def __init__(
        self,
        store: EventStore,
        name: str,
        backup: Callable[[], Awaitable[None]],
        catch_up_within: timedelta | None = None,
    ) -> None:
        self.name = name
        self.owner = f"elsewhere:{name}:x"
        self.scheduler = AsyncIOScheduler()
        self.leases = Leases(store.db, owner=self.owner, ttl=3)
        self.health = ComponentHealth("scheduler")
        daily(self.scheduler, backup, "00:00", ZONE, "backup", catch_up_within=catch_up_within)
        self.component = _SchedulerComponent(self.scheduler, self.leases, self.health)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.component.run())

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def holds(self) -> bool:
        return self.health.state == "ok"


@contextlib.asynccontextmanager
async def running(*processes: Process) -> AsyncIterator[None]:
    for process in processes:
        process.start()
    try:
        yield
    finally:
        for process in processes:
            await process.stop()


async def backed_up_yesterday(store: EventStore) -> None:
    """The firm's Kartei has run before: yesterday's backup is recorded as done."""
    earlier = JobRuns(store.db, "elsewhere:earlier:x")
    yesterday = today() - timedelta(days=1)
    assert await earlier.claim("backup", yesterday)
    await earlier.finish("backup", yesterday)


def counting(runs: list[str], name: str) -> Callable[[], Awaitable[None]]:
    async def backup() -> None:
        runs.append(name)

    return backup


async def test_a_backup_missed_while_no_process_ran_is_made_once_by_the_next(
    make_store: MakeStore,
) -> None:
    store = await make_store()
    await backed_up_yesterday(store)
    runs: list[str] = []
    # Both processes start after today's time: neither was running at 00:00.
    a, b = (Process(store, name, counting(runs, name)) for name in ("a", "b"))
    async with running(a, b):
        await until(lambda: len(runs) == 1)
        await finished(store)
        [holder] = [p for p in (a, b) if p.holds()]
        assert holder.health.details["resumed"] == ["backup"]
        other = b if holder is a else a
        await holder.stop()  # gives the lease back: the other takes it at its next look
        await until(other.holds)
        assert other.health.details["resumed"] == []  # today's is done
    assert runs == [holder.name]


async def test_a_fresh_install_makes_its_first_backup_at_the_time_not_at_the_start(
    make_store: MakeStore,
) -> None:
    store = await make_store()
    runs: list[str] = []
    a = Process(store, "a", counting(runs, "a"))
    async with running(a):
        await until(a.holds)
        assert a.health.details["resumed"] == []
        assert runs == []
        a.scheduler.modify_job("backup", next_run_time=datetime.now(a.scheduler.timezone))
        await until(lambda: runs == ["a"])  # its time comes


async def test_a_job_that_must_not_run_late_is_not_made_up(make_store: MakeStore) -> None:
    store = await make_store()
    await backed_up_yesterday(store)
    runs: list[str] = []
    a = Process(store, "a", counting(runs, "a"), catch_up_within=timedelta(0))
    async with running(a):
        await until(a.holds)
        assert a.health.details["resumed"] == []
    assert runs == []


async def lease_taken_over(store: EventStore, by: Process) -> None:
    """The holder hung past its lease's expiry, and `by` took the lease."""
    async with store.db.write() as conn:
        await conn.execute(
            sa.update(leases).where(leases.c.name == "scheduler").values(expires_at=0.0)
        )
    assert await by.leases.acquire("scheduler")


@pytest.mark.parametrize("ending", ["finishes", "dies"])
async def test_a_backup_running_when_its_process_loses_the_lease_is_not_started_twice(
    make_store: MakeStore,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    ending: str,
) -> None:
    monkeypatch.setattr(hub.job_runs, "HEARTBEAT_SECONDS", 0.2)  # beats, and looks, often
    caplog.set_level(logging.INFO, logger="hub.schedule")
    store = await make_store()
    runs: list[str] = []
    done = asyncio.Event()
    backups: list[asyncio.Task[object]] = []

    async def long_backup() -> None:  # a's backup runs until the test lets it end
        backups.append(asyncio.current_task())  # type: ignore[arg-type]
        runs.append("a")
        await done.wait()

    a = Process(store, "a", long_backup)
    b = Process(store, "b", counting(runs, "b"))
    a.start()
    await until(a.holds)
    a.scheduler.modify_job("backup", next_run_time=datetime.now(a.scheduler.timezone))
    await until(lambda: runs == ["a"])

    await lease_taken_over(store, by=b)
    b.start()
    assert a.task is not None
    with pytest.raises(LeaseLostError):
        await a.task  # a's scheduler stops: its lease is lost
    await until(b.holds)
    assert b.health.details["resumed"] == ["backup"]
    waits = f"backup of {today()} is still running in {a.owner}"
    await until(lambda: caplog.text.count(waits) >= 3)  # b looked three times
    assert runs == ["a"]  # a's backup goes on, and b has not started another

    if ending == "finishes":
        done.set()
        await until(lambda: f"backup of {today()} has run already" in caplog.text)
        assert runs == ["a"]
    else:
        backups[0].cancel()  # a's process ends during its backup: its heartbeat stops
        with contextlib.suppress(asyncio.CancelledError):
            await backups[0]
        await heartbeat_stopped_long_ago(store)
        await until(lambda: runs == ["a", "b"])
    await finished(store)
    await b.stop()
