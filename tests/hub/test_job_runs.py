"""A daily job's run is recorded in the database: each day's run happens once, whichever
process holds the scheduler's lease and whatever it remembers.

Two schedulers on one database stand for two `kartei run` processes (the real processes
with stepped clocks are in tests/hub/test_schedule_handover.py). A job's time coming is
its next run time set to now, as the wall clock reaching 03:00 sets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from typer.testing import CliRunner

from hub.bootstrap import _SchedulerComponent
from hub.cli import app
from hub.health import ComponentHealth
from hub.job_runs import JobRuns, job_runs
from hub.schedule import OnceADay, daily
from hub.store import EventStore
from hub.store.leases import Leases
from tests.hub.test_leases import until

ZONE = "Europe/Berlin"


class Process:
    """One process's scheduler with a daily backup that counts its runs."""

    def __init__(self, store: EventStore, runs: list[str], name: str) -> None:
        self.name = name
        self.scheduler = AsyncIOScheduler()
        self.leases = Leases(store.db, owner=f"elsewhere:{name}:x", ttl=3)
        self.health = ComponentHealth("scheduler")

        async def backup() -> None:
            runs.append(name)

        daily(self.scheduler, backup, "00:00", ZONE, "backup")
        self.component = _SchedulerComponent(self.scheduler, self.leases, self.health)

    def due(self) -> None:
        """The job's time has come (the wall clock reached it)."""
        self.scheduler.modify_job("backup", next_run_time=datetime.now(self.scheduler.timezone))

    @contextlib.asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        self.health.set("starting")
        task = asyncio.create_task(self.component.run())
        try:
            await until(lambda: self.health.state == "ok")
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def nothing() -> None:
    pass


def today() -> date:
    """The day of the test job's latest run time (00:00 in the firm's zone)."""
    return OnceADay(AsyncIOScheduler(), nothing, "backup", 0, 0, ZoneInfo(ZONE)).day()


async def finished(store: EventStore) -> None:
    """Until today's backup is recorded as finished."""
    async with asyncio.timeout(10):
        while await JobRuns(store.db, "x").interrupted("backup", today()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_the_next_holder_of_the_lease_does_not_run_the_day_again(
    make_store: Callable[..., asyncio.Future[EventStore]],
    caplog: pytest.LogCaptureFixture,
    database_url: str,
    tmp_path: Path,
) -> None:
    store = await make_store()
    runs: list[str] = []
    first, second = Process(store, runs, "a"), Process(store, runs, "b")
    async with first.holding():
        first.due()
        await until(lambda: runs == ["a"])
        await finished(store)
    caplog.set_level(logging.INFO, logger="hub.schedule")
    async with second.holding():
        assert second.health.details["resumed"] == []
        second.due()  # its own idea of the day: today's run still to come
        await until(lambda: "backup of" in caplog.text and "has run already" in caplog.text)
    async with first.holding():  # a holder again: its jobs are back, the day is done
        assert first.health.details["jobs"] == 1
        first.due()
        await until(lambda: caplog.text.count("has run already") == 2)
    assert runs == ["a"]

    await asyncio.to_thread(rebuild, database_url, tmp_path)  # drops the read models only
    async with store.db.read() as conn:
        done_ = job_runs.c.finished_at.is_not(None)
        done = await conn.scalar(sa.select(sa.func.count()).where(done_))
    assert done == 1


async def heartbeat_stopped_long_ago(store: EventStore) -> None:
    """Half a minute (the default staleness) and more passes without a heartbeat."""
    async with store.db.write() as conn:
        await conn.execute(
            sa.update(job_runs).values(heartbeat_at=datetime(2000, 1, 1, tzinfo=UTC))
        )


def rebuild(database_url: str, data_dir: Path) -> None:
    config = data_dir / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "{data_dir}"\n[database]\nurl = "{database_url}"\n')
    result = CliRunner().invoke(app, ["rebuild", "--config", str(config)])
    assert result.exit_code == 0, result.output


async def test_a_run_that_never_finished_is_run_again_by_the_next_holder(
    make_store: Callable[..., asyncio.Future[EventStore]], caplog: pytest.LogCaptureFixture
) -> None:
    store = await make_store()
    dead = JobRuns(store.db, "elsewhere:99:gone")  # claimed the run, then its process died
    assert await dead.claim("backup", today())
    await heartbeat_stopped_long_ago(store)
    runs: list[str] = []
    second = Process(store, runs, "b")
    async with second.holding():
        assert second.health.details["resumed"] == ["backup"]
        await until(lambda: runs == ["b"])  # at once, not tomorrow
        await finished(store)
    caplog.set_level(logging.INFO, logger="hub.schedule")
    third = Process(store, runs, "c")
    async with third.holding():
        assert third.health.details["resumed"] == []
        third.due()
        await until(lambda: "has run already" in caplog.text)
    assert runs == ["b"]
