"""Daily jobs on the scheduler (backup, tree heads, retention, the staff digest): at a
local time of the firm's day, once after a missed run, never twice at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger


def daily(
    scheduler: AsyncIOScheduler,
    job: Callable[[], Awaitable[Any]],
    at: str,
    timezone: str,
    job_id: str,
) -> None:
    """Runs `job` every day at `at` ("HH:MM", the firm's time zone); a run missed by up to
    an hour (a restart) happens late, several missed runs happen once."""
    hour, minute = (int(x) for x in at.split(":"))
    scheduler.add_job(
        job,
        CronTrigger(hour=hour, minute=minute, timezone=timezone),
        id=job_id,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
