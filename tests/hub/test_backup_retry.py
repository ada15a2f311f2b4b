"""The daily backup when it fails, on both databases: pg_dump's race with a process that
creates read-model tables is tried again at once; a backup that still fails leaves the
day's run unfinished, shows in health, and is tried again an hour later, until one works.

The Kartei is the real one (bootstrap) with its scheduler under the lease, as `kartei
run` holds it; an hour passing is the job's next run time set to now, as the wall clock
reaching it sets it. pg_dump's failures come from a stand-in earlier on the PATH that
answers as pg_dump does and otherwise runs the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

import hub.backup
from hub.backup import BackupError, backup, verify
from hub.bootstrap import Kartei, _SchedulerComponent, bootstrap
from hub.job_runs import JobRuns
from hub.schedule import OnceADay
from hub.settings import Settings, load_settings
from hub.store.leases import Leases
from tests.hub.test_backup import _migrate, write_config
from tests.hub.test_leases import until

RACE = "pg_dump: error: query failed: ERROR:  cache lookup failed for index 16789"
FULL = "pg_dump: error: could not write to output file: No space left on device"


def stand_in_pg_dump(folder: Path, failures: list[str]) -> Path:
    """A pg_dump that fails with each of `failures` in turn, then runs the real one; the
    file `calls` counts how often it ran."""
    real = shutil.which("pg_dump")
    assert real is not None, "the tests need PostgreSQL's client tools"
    folder.mkdir(parents=True, exist_ok=True)
    calls = folder / "calls"
    calls.write_text("0")
    lines = ["#!/bin/sh", f'n=$(cat "{calls}")', f'echo $((n + 1)) > "{calls}"']
    for n, message in enumerate(failures):
        lines.append(f'if [ "$n" = {n} ]; then echo "{message}" >&2; exit 1; fi')
    lines.append(f'exec "{real}" "$@"')
    script = folder / "pg_dump"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return calls


@pytest.fixture
def firm(tmp_path: Path, backend: str, database_url: str) -> Settings:
    url = None if backend == "sqlite" else database_url
    config = write_config(tmp_path / "firma", url)
    config.write_text(config.read_text() + '[backup]\ndir = "../backups"\n')
    return load_settings(config)


@pytest.fixture
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub.backup, "CATALOGUE_PAUSE_SECONDS", 0.01)


def on_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


async def test_a_dump_that_meets_tables_being_created_is_taken_again(
    tmp_path: Path, firm: Settings, backend: str, monkeypatch: pytest.MonkeyPatch, no_pause: None
) -> None:
    if backend == "sqlite":
        pytest.skip("pg_dump is PostgreSQL's")
    await _migrate(firm)
    calls = stand_in_pg_dump(tmp_path / "bin", [RACE, RACE])
    on_path(monkeypatch, tmp_path / "bin")
    manifest = await asyncio.to_thread(backup, firm, tmp_path / "copy")
    assert calls.read_text().strip() == "3"
    assert verify(tmp_path / "copy") == manifest


async def test_a_table_dropped_while_pg_dump_runs_is_dumped_again_without_it(
    tmp_path: Path,
    firm: Settings,
    backend: str,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    no_pause: None,
) -> None:
    """The real race, with the real pg_dump: another process drops a table (and its
    index) after the backup's snapshot, while pg_dump waits to lock it; pg_dump fails,
    and the next dump, in a new snapshot, works."""
    if backend == "sqlite":
        pytest.skip("pg_dump is PostgreSQL's")
    await _migrate(firm)
    conninfo = make_url(database_url).set(drivername="postgresql")
    other = psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)
    watcher = psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True)
    with other, watcher:
        other.execute("CREATE TABLE read_model_old (id int PRIMARY KEY, v text)")
        other.execute("CREATE INDEX ON read_model_old (v)")
        other.execute("BEGIN")  # a process replacing a read model holds it meanwhile
        other.execute("LOCK TABLE read_model_old IN ACCESS EXCLUSIVE MODE")
        dump = asyncio.create_task(asyncio.to_thread(backup, firm, tmp_path / "copy"))
        async with asyncio.timeout(30):
            while not watcher.execute(  # noqa: ASYNC110 - a poll under a timeout
                "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE NOT l.granted AND a.application_name = 'pg_dump'"
            ).fetchone():
                await asyncio.sleep(0.02)
        other.execute("DROP TABLE read_model_old")
        other.execute("COMMIT")
        manifest = await dump
    assert verify(tmp_path / "copy") == manifest
    assert "dumping again" in caplog.text and "read_model_old" in caplog.text


async def test_a_race_that_does_not_end_fails_after_a_few_tries(
    tmp_path: Path, firm: Settings, backend: str, monkeypatch: pytest.MonkeyPatch, no_pause: None
) -> None:
    if backend == "sqlite":
        pytest.skip("pg_dump is PostgreSQL's")
    await _migrate(firm)
    calls = stand_in_pg_dump(tmp_path / "bin", [RACE] * 10)
    on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(BackupError, match="cache lookup failed"):
        await asyncio.to_thread(backup, firm, tmp_path / "copy")
    assert calls.read_text().strip() == str(hub.backup.CATALOGUE_TRIES)


async def test_a_full_disk_and_a_missing_pg_dump_are_reported_not_tried_again(
    tmp_path: Path, firm: Settings, backend: str, monkeypatch: pytest.MonkeyPatch, no_pause: None
) -> None:
    if backend == "sqlite":
        pytest.skip("pg_dump is PostgreSQL's")
    await _migrate(firm)
    calls = stand_in_pg_dump(tmp_path / "bin", [FULL])
    with monkeypatch.context() as patch:
        on_path(patch, tmp_path / "bin")
        with pytest.raises(BackupError, match="No space left on device"):
            await asyncio.to_thread(backup, firm, tmp_path / "full")
    assert calls.read_text().strip() == "1"
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackupError, match="pg_dump not found: install the PostgreSQL client"):
        await asyncio.to_thread(backup, firm, tmp_path / "none")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Kartei]:
    """The firm's Kartei with its scheduler under the lease."""
    await _migrate(settings)
    kartei = bootstrap(settings, adapters=[], policies=[], projections=[])
    leases = Leases(kartei.store.db, owner="here:1:x", ttl=3)
    health = kartei.health.component("scheduler")
    task = asyncio.create_task(_SchedulerComponent(kartei.scheduler, leases, health).run())
    try:
        await until(lambda: health.state == "ok")
        yield kartei
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await kartei.store.db.dispose()


def backup_job(kartei: Kartei) -> OnceADay:
    job = kartei.scheduler.get_job("backup")
    assert job is not None
    once = job.func.__self__  # type: ignore[attr-defined]
    assert isinstance(once, OnceADay)
    return once


def comes(kartei: Kartei) -> None:
    """The backup's time has come (or the hour after a failure has passed)."""
    kartei.scheduler.modify_job("backup", next_run_time=datetime.now(UTC))


def next_run(kartei: Kartei) -> datetime:
    job = kartei.scheduler.get_job("backup")
    assert job is not None and job.next_run_time is not None
    return job.next_run_time  # type: ignore[no-any-return]


def retry_set(kartei: Kartei, failed_after: datetime) -> bool:
    """Whether the backup's next run is an hour after a failure at `failed_after` or
    later (not at once, and not tomorrow's at its time)."""
    hour = timedelta(hours=1)
    return failed_after + hour <= next_run(kartei) <= datetime.now(UTC) + hour


async def finished(runs: JobRuns, day: date) -> bool:
    run = await runs.run("backup", day)
    return run is not None and run.finished


@contextlib.contextmanager
def blocked(folder: Path) -> Iterator[None]:
    """The backup folder cannot be written: its place is taken by a file (the tests run
    as root, whom no file mode stops)."""
    folder.write_text("not a folder")
    yield
    folder.unlink()


async def test_a_failed_backup_is_no_finished_run_and_is_tried_again_an_hour_later(
    tmp_path: Path, firm: Settings
) -> None:
    root = tmp_path / "backups"
    async with running(firm) as kartei:
        once = backup_job(kartei)
        runs = JobRuns(kartei.store.db, "test")
        health = kartei.health.component("backup")
        with blocked(root):
            before = datetime.now(UTC)
            comes(kartei)
            await until(lambda: health.state == "degraded")
            # An hour later, not tomorrow and not at once.
            await until(lambda: retry_set(kartei, before))
            run = await runs.run("backup", once.day())
            assert run is not None and not run.finished
            assert str(root) in (health.error or "")
            failure = kartei.health.snapshot()["components"]["backup"]
            assert failure["state"] == "degraded" and failure["details"]["last"] is None
            assert failure["details"]["failed_at"] is not None
            # The hour passes while the folder is still blocked: failed again, and again
            # an hour later.
            again = datetime.now(UTC)
            comes(kartei)
            await until(lambda: retry_set(kartei, again))
            assert health.state == "degraded"
        comes(kartei)  # an hour later, the folder is back
        await until(lambda: health.state == "ok")
        async with asyncio.timeout(10):  # recorded as finished once the job has returned
            while not await finished(runs, once.day()):  # noqa: ASYNC110 - a poll, timed out
                await asyncio.sleep(0.02)
        assert health.error is None and health.details["failed_at"] is None
        assert health.details["last"] is not None and health.last_error is not None
        [made] = root.iterdir()
        verify(made)
        # Done for the day: the next run is tomorrow's, at the backup's time.
        tomorrow = next_run(kartei).astimezone(once.zone)
        assert tomorrow.strftime("%H:%M") == firm.backup.time
        assert tomorrow.date() == once.day() + timedelta(days=1)
