"""Daily jobs on the scheduler (backup, tree heads, retention, the staff digest): at a
local time of the firm's day, once however late it is noticed, never twice at once.

The wall clock may step (NTP correcting a wrong clock, someone setting it by hand), and
APScheduler waits for the next run on the loop's monotonic clock, which does not step:
after a step forward over a job's time it slept on until the old wait was over, found
the run more than its grace of an hour late and skipped it, so the job ran never that
day. Now the scheduler looks at the wall clock at least every RECHECK_SECONDS and runs a
late job once, however late (coalesced: several missed runs are one).

A step back does not repeat a run: after each run the next is set to the following day,
and a clock that now reads earlier than the run that happened only makes that next run
wait until the clock reaches it (a step back of an hour after 03:00 runs the next job at
03:00 tomorrow, by the clock; a step back of a day waits a day longer). A job does run
twice when its process restarts after a step back to before its time: APScheduler keeps
no record of its last run, so the new process finds today's run still to come.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

RECHECK_SECONDS = 60.0  # a step of the wall clock is noticed within this time
WATCH = "_kartei_wall_clock_watch"  # the scheduler's watch, kept on the scheduler


def daily(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[Any]],
    at: str,
    timezone: str,
    job_id: str,
    *,
    recheck_seconds: float = RECHECK_SECONDS,
) -> None:
    """Runs `job` every day at `at` ("HH:MM", the firm's time zone); a run noticed late
    (the wall clock stepped, the loop was blocked) happens once, as soon as it is seen."""
    hour, minute = (int(x) for x in at.split(":"))
    scheduler.add_job(
        job,
        CronTrigger(hour=hour, minute=minute, timezone=timezone),
        id=job_id,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=None,  # however late: a skipped backup is worse than a late one
    )
    watch_wall_clock(scheduler, recheck_seconds)


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
