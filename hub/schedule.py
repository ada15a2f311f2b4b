"""Daily jobs on the scheduler (backup, tree heads, retention, the staff digest): at a
local time of the firm's day, once however late it is noticed, never twice at once.

The wall clock may step (NTP correcting a wrong clock, someone setting it by hand), and
APScheduler waits for the next run on the loop's monotonic clock, which does not step:
after a step forward over a job's time it slept on until the old wait was over, found
the run more than its grace of an hour late and skipped it, so the job ran never that
day. Now the scheduler looks at the wall clock at least every RECHECK_SECONDS (or the
environment's KARTEI_SCHEDULER_RECHECK_SECONDS) and runs a late job once, however late
(coalesced: several missed runs are one).

A step back does not repeat a run: after each run the next is set to the following day,
and a clock that now reads earlier than the run that happened only makes that next run
wait until the clock reaches it (a step back of an hour after 03:00 runs the next job at
03:00 tomorrow, by the clock; a step back of a day waits a day longer).

APScheduler keeps no record of its last run, so a process that restarts after a step back,
or takes the scheduler's lease over from the one that ran today's job with a clock
behind, finds today's run still to come. While the scheduler runs under its lease
(hub/bootstrap.py) each run is therefore claimed in the database first (hub/job_runs.py):
a day whose run finished is skipped. Without the record (a job called by hand, a test) a
job just runs. The day is the one the process's clock names: a clock a day ahead runs
tomorrow's job today, and tomorrow it is not run again.

On taking the lease (a start, a handover) the scheduler makes up each job's latest run
that is due and not done (`resume_interrupted`): one that started and never finished
(its process died or was stopped during it), and one that never started because no
process held the lease at its time (the holder died at 02:59, the only process was down
over 03:00). A job's own `catch_up_within` limits how late that may be (a morning digest
is no use in the evening); by default any time until its next run. A job that has no
recorded run at all (a fresh install, a job just enabled) is not made up: its first run
is at its time, not at the first start. A claim whose job is still running elsewhere
(the process that lost the lease, in a thread no cancellation stops, its heartbeat
fresh) is left to it: the scheduler looks again every heartbeat until it finished or
its heartbeat stopped. The job's run outlives the loss of the lease in its own process
for the same reason, and keeps its claim's heartbeat while it runs.

A job that raises leaves its day's run unfinished (`abandon`): the next holder of the
lease makes it up at once. A job given `retry_after` (the backup) is also tried again by
the process it failed in, that much later, and again after each failure until a run
finishes; the day's other jobs keep their own times. Without it a job that raised waits
for its next time, or for the lease to change hands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from hub.job_runs import JobRuns

log = logging.getLogger(__name__)

RECHECK_SECONDS = 60.0  # a step of the wall clock is noticed within this time
RECHECK_ENV = "KARTEI_SCHEDULER_RECHECK_SECONDS"  # another interval, in seconds (> 0)
WATCH = "_kartei_wall_clock_watch"  # the scheduler's watch, kept on the scheduler
RUNS = "_kartei_job_runs"  # the record of runs while the scheduler runs under its lease


def daily(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[Any]],
    at: str,
    timezone: str,
    job_id: str,
    *,
    recheck_seconds: float | None = None,
    catch_up_within: timedelta | None = None,
    retry_after: timedelta | None = None,
) -> None:
    """Runs `job` every day at `at` ("HH:MM", the firm's time zone); a run noticed late
    (the wall clock stepped, the loop was blocked) happens once, as soon as it is seen.
    A run missed while no process held the scheduler's lease is made up on taking it if
    at most `catch_up_within` late (None: until the next run; see the module's note).
    A run that raised is tried again `retry_after` later (None: at its next time)."""
    hour, minute = (int(x) for x in at.split(":"))
    once = OnceADay(
        scheduler, job, job_id, hour, minute, ZoneInfo(timezone), catch_up_within, retry_after
    )
    scheduler.add_job(
        once.run,
        CronTrigger(hour=hour, minute=minute, timezone=timezone),
        id=job_id,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=None,  # however late: a skipped backup is worse than a late one
    )
    watch_wall_clock(scheduler, recheck_seconds or recheck_interval())


def recheck_interval() -> float:
    """RECHECK_SECONDS, or the environment's KARTEI_SCHEDULER_RECHECK_SECONDS."""
    text = os.environ.get(RECHECK_ENV, "").strip()
    if not text:
        return RECHECK_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"{RECHECK_ENV}={text!r}: expected a number of seconds above 0")
    return seconds


def record_runs(scheduler: AsyncIOScheduler, runs: JobRuns | None) -> None:
    """Claims each daily job's run in `runs` from now on (None: no longer)."""
    setattr(scheduler, RUNS, runs)


async def resume_interrupted(scheduler: AsyncIOScheduler, runs: JobRuns) -> list[str]:
    """Runs at once each daily job whose latest run is owed (interrupted, or missed while
    no process held the lease: see the module's note); their ids."""
    owed = []
    for job in scheduler.get_jobs():
        once = getattr(job.func, "__self__", None)
        if isinstance(once, OnceADay) and await once.owed(runs):
            job.modify(next_run_time=datetime.now(once.zone))
            owed.append(once.job_id)
    log.info("the scheduler makes up %s", ", ".join(owed) if owed else "no job's run")
    if owed:
        scheduler.wakeup()
    return owed


class OnceADay:
    """A daily job that claims its day's run in the scheduler's record before it runs."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        job: Callable[[], Awaitable[Any]],
        job_id: str,
        hour: int,
        minute: int,
        zone: ZoneInfo,
        catch_up_within: timedelta | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.job = job
        self.job_id = job_id
        self.at = (hour, minute)
        self.zone = zone
        self.catch_up_within = catch_up_within
        self.retry_after = retry_after
        self.running: asyncio.Task[None] | None = None  # the claimed run, while it runs

    def day(self, now: datetime | None = None) -> date:
        """The firm's day of the latest run time at or before `now`."""
        local = (now or datetime.now(self.zone)).astimezone(self.zone)
        before = (local.hour, local.minute) < self.at
        return local.date() - timedelta(days=1) if before else local.date()

    async def owed(self, runs: JobRuns) -> bool:
        """Whether the latest run due by now is to be made up at once."""
        now = datetime.now(self.zone)
        day = self.day(now)
        due = datetime.combine(day, time(*self.at), self.zone)
        if self.catch_up_within is not None and now - due > self.catch_up_within:
            return False
        run = await runs.run(self.job_id, day)
        if run is not None:
            return not run.finished
        latest = await runs.latest_day(self.job_id)
        # Never run here: a fresh install waits for the time. A later day run: this
        # process's clock is behind the one that ran it.
        return latest is not None and latest < day

    async def run(self) -> None:
        """Runs the job unless its day's run has finished or is running elsewhere (a
        coroutine function, as APScheduler needs to await it on the loop); one that
        raised is tried again `retry_after` later."""
        try:
            await self._run()
        except Exception:
            if self.retry_after is not None:
                later = datetime.now(self.zone) + self.retry_after
                log.warning("%s failed; trying again at %s", self.job_id, later.isoformat())
                self._next_run(later)
            raise

    def _next_run(self, at: datetime) -> None:
        with contextlib.suppress(JobLookupError):  # the scheduler stopped meanwhile
            self.scheduler.modify_job(self.job_id, next_run_time=at)

    async def _run(self) -> None:
        runs: JobRuns | None = getattr(self.scheduler, RUNS, None)
        if runs is None:
            await self.job()
            return
        day = self.day()
        if await runs.claim(self.job_id, day):
            # Shielded: cancelling this (the lease lost, the scheduler shut down) leaves the
            # run and its heartbeat going until the job returns; a thread cannot be stopped.
            self.running = asyncio.create_task(self._claimed(runs, day), name=self.job_id)
            try:
                await asyncio.shield(self.running)
            except asyncio.CancelledError:
                self.running.add_done_callback(_report_error)  # nobody awaits it now
                raise
            return
        run = await runs.run(self.job_id, day)
        if run is not None and run.finished:
            log.info("%s of %s has run already; not again", self.job_id, day)
            return
        owner = run.owner if run is not None else "another process"
        wait = runs.heartbeat_seconds
        log.info(
            "%s of %s is still running in %s; looking again in %g s", self.job_id, day, owner, wait
        )
        self._next_run(datetime.now(self.zone) + timedelta(seconds=wait))

    async def _claimed(self, runs: JobRuns, day: date) -> None:
        heart = asyncio.create_task(self._beat(runs, day), name=f"{self.job_id} heartbeat")
        try:
            await self.job()
        except Exception:
            await runs.abandon(self.job_id, day)  # the next holder tries again at once
            raise
        finally:
            heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heart
        await runs.finish(self.job_id, day)

    async def _beat(self, runs: JobRuns, day: date) -> None:
        while True:
            await asyncio.sleep(runs.heartbeat_seconds)
            try:
                mine = await runs.beat(self.job_id, day)
            except Exception:  # the job goes on; the next beat tries again
                log.warning("%s of %s: heartbeat not written", self.job_id, day, exc_info=True)
                continue
            if not mine:
                log.error(
                    "%s of %s was taken over by another process while it ran here "
                    "(its heartbeat stopped for %g s); it may run twice",
                    self.job_id,
                    day,
                    runs.stale_seconds,
                )
                return


def _report_error(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s failed", task.get_name(), exc_info=error)


def watch_wall_clock(scheduler: AsyncIOScheduler, seconds: float) -> None:
    """Wakes the scheduler at least every `seconds` while it runs (once per scheduler)."""
    if getattr(scheduler, WATCH, None) is None:
        setattr(scheduler, WATCH, WallClockWatch(scheduler, seconds))


class WallClockWatch:
    """Wakes a running scheduler every `seconds`, so it compares its jobs' times with the
    wall clock: its own wait is on the monotonic clock and may be hours long. A timer on
    the loop, not a job: a job's next time is on the wall clock, and a step back would
    put it hours away as well."""

    def __init__(self, scheduler: AsyncIOScheduler, seconds: float) -> None:
        self.scheduler = scheduler
        self.seconds = seconds
        self._timer: asyncio.TimerHandle | None = None
        scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)
        scheduler.add_listener(self._stopped, EVENT_SCHEDULER_SHUTDOWN)

    def _started(self, event: SchedulerEvent) -> None:
        self._stopped(event)
        self._timer = asyncio.get_running_loop().call_later(self.seconds, self._tick)

    def _tick(self) -> None:
        if self.scheduler.running:
            self.scheduler.wakeup()
            self._timer = asyncio.get_running_loop().call_later(self.seconds, self._tick)

    def _stopped(self, event: SchedulerEvent) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
