"""The daily backup in real `kartei run` processes: today's run happens once, though the
scheduler's lease changes hands and the next holder's clock reads before 03:00 again.

Process a runs the backup at 03:00 (its clock, libfaketime) and stops. Process b starts
with its clock before 03:00 again (a restart after the clock was stepped back, or a
second machine whose clock is behind), takes the scheduler's lease and passes 03:00 by
its clock: it finds today's backup done in the database and does not make a second one.
And processes started at 03:05, after a night in which none ran, make the missed backup
at once, one of them, once. On SQLite (one file, processes on one host) and on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.job_runs import job_runs
from hub.schedule import RECHECK_ENV
from tests.hub.test_cli import free_port, kartei
from tests.hub.test_clock import LIBFAKETIME, Clock
from tests.hub.test_cluster import until
from tests.hub.test_job_runs import rebuild
from tests.hub.test_schedule_clock import next_three_oclock, offset_to

# Two start-ups of `kartei run`: on a loaded machine more than the usual five minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]
BEFORE = timedelta(seconds=10)


def configure(data: Path, url: str) -> Path:
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    text = config.read_text()
    for old, new in (
        ("[database]\n", f'[database]\nurl = "{url}"\n'),
        ("takeover_seconds = 30", "takeover_seconds = 3"),
        ("port = 8080", f"port = {free_port()}"),
        ('time = "02:30"', 'dir = "backups"\ntime = "03:00"'),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    head, _, classifier = text.partition("[classifier]\n")  # no model needed here
    text = head + "[classifier]\n" + classifier.replace("enabled = true", "enabled = false", 1)
    config.write_text(text)
    return config


def start(config: Path, clock: Clock, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "run", "--role", "workers", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            # The scheduler notices a stepped clock within a second, not a minute.
            env={**clock.env(), RECHECK_ENV: "1"},
        )


def query(url: str, table: str, sql: str) -> object:
    """One value from the database, None while `table` does not exist."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(sql)) if sa.inspect(conn).has_table(table) else None
    finally:
        engine.dispose()


def scheduler_holder(url: str) -> int | None:
    """The process id in the scheduler's lease row, if any."""
    owner = query(url, "leases", "SELECT owner FROM leases WHERE name = 'scheduler'")
    return int(str(owner).split(":")[1]) if owner else None


def backed_up(url: str, log: Path) -> bool:
    """Whether the process logging to `log` has made its backup and recorded it done (an
    installation without the record of runs: made it)."""
    if "INFO hub.backup: backup " not in log.read_text():
        return False
    done = "SELECT count(*) FROM job_runs WHERE job = 'backup' AND finished_at IS NOT NULL"
    return query(url, "job_runs", done) != 0


def backups(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("kartei-*") if (p / "manifest.json").exists())


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def test_the_next_holder_with_a_clock_behind_does_not_back_up_twice(
    database_url: str, tmp_path: Path
) -> None:
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (Debian package faketime)")
    config = configure(tmp_path / "firma", database_url)
    root = tmp_path / "firma" / "backups"
    job = next_three_oclock()
    clock_a, clock_b = Clock(tmp_path / "a.offset"), Clock(tmp_path / "b.offset")
    # Each process starts well before 03:00 (a start-up takes long on a busy machine) and
    # its clock is stepped to ten seconds before 03:00 once it holds the scheduler's lease:
    # its scheduler, started just before or just after the step, runs the job at 03:00.
    # (Stepped to 03:00 itself, a scheduler that started a moment after the step planned
    # its first run for tomorrow: the lease row is written before the scheduler starts.)
    clock_a.set(offset_to(job - timedelta(minutes=10)))
    a = start(config, clock_a, tmp_path / "a.log")
    try:
        await until(lambda: scheduler_holder(database_url) == a.pid, 120)
        clock_a.set(offset_to(job - BEFORE))
        await until(lambda: backed_up(database_url, tmp_path / "a.log"), 120)
    finally:
        stop(a)
    [made] = backups(root)

    clock_b.set(offset_to(job - timedelta(minutes=10)))  # b's clock: before 03:00 again
    b = start(config, clock_b, tmp_path / "b.log")
    skipped = "backup of " + job.date().isoformat() + " has run already"
    try:
        await until(lambda: scheduler_holder(database_url) == b.pid, 120)
        clock_b.set(offset_to(job - BEFORE))

        def decided() -> bool:  # skipped, or backed up again (into a new folder or not)
            said = (tmp_path / "b.log").read_text()
            return skipped in said or "hub.backup: backup " in said or "backup failed" in said

        await until(decided, 120)
    finally:
        stop(b)
    assert backups(root) == [made]
    for log in ("a.log", "b.log"):
        text = (tmp_path / log).read_text()
        assert "Traceback" not in text, text
    assert skipped in (tmp_path / "b.log").read_text()


def backed_up_yesterday(url: str, today: date, elsewhere: Path) -> None:
    """The firm's Kartei has run before: its read models are there (pg_dump fails on
    tables a first start creates while it reads), yesterday's backup is recorded done."""
    elsewhere.mkdir()
    rebuild(url, elsewhere)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    at = datetime.now(UTC) - timedelta(days=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(job_runs).values(
                    job="backup",
                    day=today - timedelta(days=1),
                    owner="elsewhere:1:earlier",
                    started_at=at,
                    finished_at=at,
                )
            )
    finally:
        engine.dispose()


async def test_processes_started_after_the_time_make_the_missed_backup_once(
    database_url: str, tmp_path: Path
) -> None:
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (Debian package faketime)")
    config = configure(tmp_path / "firma", database_url)
    # Leases that outlast a loaded machine's stalls (the handover here is by SIGTERM).
    config.write_text(config.read_text().replace("takeover_seconds = 3", "takeover_seconds = 10"))
    root = tmp_path / "firma" / "backups"
    job = next_three_oclock()
    await asyncio.to_thread(backed_up_yesterday, database_url, job.date(), tmp_path / "earlier")
    # Nothing ran over 03:00 (the server was down): a starts at 03:05, then b, once a's
    # backup is made (b's start creates nothing, but a first start would: see above).
    clock_a, clock_b = Clock(tmp_path / "a.offset"), Clock(tmp_path / "b.offset")
    for clock in (clock_a, clock_b):
        clock.set(offset_to(job + timedelta(minutes=5)))
    took = "the scheduler makes up"  # logged on taking the scheduler's lease
    a = start(config, clock_a, tmp_path / "a.log")
    b = None
    try:
        await until(lambda: backed_up(database_url, tmp_path / "a.log"), 180)
        assert f"{took} backup" in (tmp_path / "a.log").read_text()
        b = start(config, clock_b, tmp_path / "b.log")
        stop(a)  # b takes the scheduler over and finds today's backup done
        await until(lambda: took in (tmp_path / "b.log").read_text(), 120)
    finally:
        stop(a)
        if b is not None:
            stop(b)
    said = (tmp_path / "b.log").read_text()
    assert f"{took} no job's run" in said and f"{took} backup" not in said
    assert len(backups(root)) == 1
    assert (tmp_path / "a.log").read_text().count("INFO hub.backup: backup ") == 1
    assert "hub.backup: backup " not in said
