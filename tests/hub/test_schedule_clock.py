"""A daily job while the wall clock steps, in one real process (libfaketime).

The process runs Kartei's scheduler with one daily job at 03:00 (the firm's time) that
writes a line per run; its wall clock is stepped while it runs, its monotonic clock is
left alone (as a real step leaves it). Two hours forward over the job's time: the job runs,
once, at once. Back to before 03:00: it does not run again. A day forward: the next day's
run happens, once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.hub.test_clock import LIBFAKETIME, Clock

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("Europe/Berlin")
HOUR = 3600
DAY = 24 * HOUR

# The job logs each run with the time its process reads. The watch interval is shortened
# from a minute to a second, so the test waits seconds where a firm waits a minute.
CHILD = """
import asyncio, sys
from datetime import datetime
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from hub.schedule import daily

async def backup():
    with open(sys.argv[1], "a") as runs:
        runs.write(datetime.now().astimezone().isoformat() + "\\n")

async def main():
    scheduler = AsyncIOScheduler()
    daily(scheduler, backup, "03:00", "Europe/Berlin", "backup", recheck_seconds=1)
    scheduler.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
def clock(tmp_path: Path) -> Clock:
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (Debian package faketime)")
    return Clock(tmp_path / "offset")


def next_three_oclock() -> datetime:
    """The next 03:00 in the firm's zone, a few minutes away at least."""
    soon = datetime.now(ZONE) + timedelta(minutes=5)
    at = soon.replace(hour=3, minute=0, second=0, microsecond=0)
    return at if at > soon else at + timedelta(days=1)


def launch(clock: Clock, runs: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clock.env(),
    )


def runs(path: Path) -> list[datetime]:
    lines = path.read_text().split() if path.exists() else []
    return [datetime.fromisoformat(line) for line in lines]


async def until_runs(path: Path, count: int, seconds: float) -> list[datetime]:
    """The runs once there are `count` of them; fewer after `seconds` fails."""
    async with asyncio.timeout(seconds):
        while len(done := runs(path)) < count:  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.1)
    return done


def offset_to(wall: datetime) -> int:
    """The offset that makes a faked process read `wall` now."""
    return round((wall - datetime.now(ZONE)).total_seconds())


async def test_a_daily_job_runs_once_whichever_way_the_clock_steps(
    clock: Clock, tmp_path: Path
) -> None:
    job = next_three_oclock()
    clock.set(offset_to(job - timedelta(seconds=30)))  # the process starts at 02:59:30
    path = tmp_path / "runs"
    with launch(clock, path) as child:
        try:
            assert child.stdout is not None
            assert await asyncio.to_thread(child.stdout.readline) == "ready\n"

            clock.set(offset_to(job + timedelta(hours=2)))  # forward over 03:00, to 05:00
            [first] = await until_runs(path, 1, 10)  # not after its old wait, not skipped
            assert job + timedelta(hours=2) <= first < job + timedelta(hours=2, seconds=10)

            clock.set(offset_to(job - timedelta(seconds=5)))  # back to 02:59:55
            await asyncio.sleep(10)  # the clock passes 03:00 again
            assert runs(path) == [first]  # not run twice

            next_day = job + timedelta(days=1)
            clock.set(offset_to(next_day + timedelta(minutes=30)))  # a day forward: 03:30
            await until_runs(path, 2, 10)
            await asyncio.sleep(3)
            [_, second] = runs(path)  # once, however many days the step crossed
            assert next_day <= second < next_day + timedelta(minutes=31)
        finally:
            child.kill()
            stderr = child.communicate()[1]
    assert "Traceback" not in stderr, stderr


def test_the_recheck_interval_comes_from_the_environment_or_says_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.schedule import RECHECK_ENV, RECHECK_SECONDS, recheck_interval

    monkeypatch.delenv(RECHECK_ENV, raising=False)
    assert recheck_interval() == RECHECK_SECONDS
    monkeypatch.setenv(RECHECK_ENV, "2.5")
    assert recheck_interval() == 2.5
    for bad in ("eine Minute", "0", "-1", "nan"):
        monkeypatch.setenv(RECHECK_ENV, bad)
        with pytest.raises(ValueError, match=f"{RECHECK_ENV}=.*expected a number of seconds"):
            recheck_interval()
