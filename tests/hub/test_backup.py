"""Backup and restore while mail arrives through the real SMTP intake, on both databases:
restored elsewhere, the log is the same event for event, and the archive's blobs too."""

from __future__ import annotations

import asyncio
import json
import smtplib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.archive import Archive
from hub.backup import (
    BackupError,
    Manifest,
    RestoreRefusedError,
    backup,
    restore,
    rotate,
    scheduled_backup,
    verify,
)
from hub.bootstrap import bootstrap
from hub.capture import Capture
from hub.cli import app
from hub.events.mail import EmailReceived
from hub.health import ComponentHealth
from hub.settings import Settings, load_settings
from hub.store import Database, EventStore
from tests.conftest import PG_ADMIN_URL
from tests.mail import messages
from tests.mail.conftest import RULES

JOURNAL = "journal@kartei.example"


def write_config(folder: Path, database_url: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kartei.toml"
    db = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    config.write_text(f'[kartei]\ndata_dir = "."\n{db}', encoding="utf-8")
    return config


@pytest.fixture
def source(tmp_path: Path, backend: str, database_url: str) -> Settings:
    """A firm's configuration: SQLite in its data directory, or the test's PostgreSQL schema."""
    config = write_config(tmp_path / "firma", None if backend == "sqlite" else database_url)
    return load_settings(config)


@pytest.fixture
def fresh_database(backend: str, database_url: str) -> Iterator[str | None]:
    """PostgreSQL: a new, empty database for the restore (same schema name as the source,
    as pg_dump keeps it). SQLite: None (the restored config's data directory holds it)."""
    if backend == "sqlite":
        yield None
        return
    name = f"kartei_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def send(port: int, raw: bytes) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("mx.firma.example")
        client.mail("mx@firma.example")
        client.rcpt(JOURNAL)
        code, reply = client.data(raw)
        return code if code == 250 else (code, reply)  # type: ignore[return-value]


def rows(url: str, upto: int) -> list[tuple[object, ...]]:
    """Every event up to `upto` as stored: position, stream, version, type, payload bytes."""
    sync = make_url(url)
    sync = sync.set(
        drivername="sqlite" if sync.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )
    engine = sa.create_engine(sync, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    sa.text(
                        "SELECT position, stream, version, type, data, metadata, idempotency_key"
                        " FROM events WHERE position <= :p ORDER BY position"
                    ),
                    {"p": upto},
                )
            )
    finally:
        engine.dispose()


async def test_backup_during_capture_restores_the_same_history(
    tmp_path: Path, source: Settings, fresh_database: str | None
) -> None:
    store = EventStore(Database(source.database_url))
    await store.start()
    key = source.data_dir / "archive-signing.key"  # a file of the data directory's own
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o600)
    archive = Archive(source.data_dir / "archive")
    intake = MailIntake(archive, RULES, workers=1)
    adapter = SmtpJournalIntake(
        "127.0.0.1", 0, IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000), intake
    )
    task = asyncio.create_task(adapter.run(Capture(store, "smtp", ComponentHealth("smtp"))))
    delivered: list[int] = []
    stop = threading.Event()

    refused: list[object] = []

    def deliver() -> None:  # another thread, like the firm's mail server
        n = 0
        while not stop.is_set():
            n += 1
            try:
                raw = messages.simple(n, attachment=b"%PDF" * 500 + str(n).encode())
                raw = raw.replace(b"\n", b"\r\n")
                code = send(adapter.bound_port or 0, raw)
            except Exception as err:
                code = err  # type: ignore[assignment]
            if code != 250:
                refused.append(code)
                return
            delivered.append(n)

    async def wait_for(count: int) -> None:
        async with asyncio.timeout(60):
            while len(delivered) < count:
                assert not refused, refused
                await asyncio.sleep(0.05)

    try:
        async with asyncio.timeout(10):
            await adapter.ready.wait()
        sender = threading.Thread(target=deliver)
        sender.start()
        try:
            await wait_for(5)
            target = tmp_path / "backup"
            manifest = await asyncio.to_thread(backup, source, target)
            after_backup = len(delivered)
            await wait_for(after_backup + 3)  # capture went on beside the backup
        finally:
            stop.set()
            await asyncio.to_thread(sender.join)
        head = await store.head()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        intake.close()
        await store.close()

    assert manifest.event_count >= 5 and manifest.last_position < head
    assert any(rel.startswith("archive/") for rel in manifest.files)
    assert "config/kartei.toml" in manifest.files and "data/archive-signing.key" in manifest.files
    assert not [rel for rel in manifest.files if "kartei.db" in rel]  # the snapshot only
    assert verify(target).events_sha256 == manifest.events_sha256

    # Restore into an empty place: the backup's configuration is written there.
    place = tmp_path / "restored"
    config = place / "kartei.toml"
    if fresh_database is not None:  # PostgreSQL: the new database is named by hand
        write_config(place, fresh_database)
    done = await asyncio.to_thread(restore, target, config)
    assert done.config_written == (fresh_database is None)
    restored = load_settings(config)
    assert restored.data_dir == place.resolve()
    copied_key = restored.data_dir / "archive-signing.key"
    assert copied_key.read_bytes() == key.read_bytes()
    assert copied_key.stat().st_mode & 0o777 == 0o600

    original = rows(source.database_url, manifest.last_position)
    copied = rows(restored.database_url, head)
    assert len(original) == manifest.event_count and copied == original  # event for event

    # The restored Kartei opens its history: sealed fields and archived raw mail read back.
    store = EventStore(Database(restored.database_url))
    await store.start()
    try:
        events = await store.read_all(0, 10_000)
        mails = [r.event for r in events if isinstance(r.event, EmailReceived)]
        assert len(mails) == sum(r[3] == "EmailReceived" for r in original) >= 5
        copy = Archive(restored.data_dir / "archive")
        for mail in mails:
            assert mail.raw_ref is not None
            assert copy.get(mail.raw_ref) == archive.get(mail.raw_ref)
    finally:
        await store.close()

    # A second restore over that history is refused, and --force replaces it.
    with pytest.raises(RestoreRefusedError, match="--force"):
        await asyncio.to_thread(restore, target, config)
    await asyncio.to_thread(restore, target, config, force=True)
    assert rows(restored.database_url, head) == original


async def test_restore_over_a_newer_history_refuses(tmp_path: Path, source: Settings) -> None:
    store = EventStore(Database(source.database_url))
    await store.start()
    try:
        from hub.events.notes import NoteAdded

        await store.append(
            "note-1", None, [NoteAdded(note_id="1", contact_id="c1", text="erste Notiz")]
        )
        manifest = await asyncio.to_thread(backup, source, tmp_path / "b")
        await store.append(
            "note-2", None, [NoteAdded(note_id="2", contact_id="c1", text="zweite Notiz")]
        )
    finally:
        await store.close()
    with pytest.raises(RestoreRefusedError, match="newer history") as refused:
        await asyncio.to_thread(restore, tmp_path / "b", source.source)  # type: ignore[arg-type]
    assert f"ends at {manifest.last_position}" in str(refused.value)
    assert len(rows(source.database_url, 100)) == 2  # nothing was touched


async def test_restore_never_replaces_the_database_of_a_running_kartei(
    tmp_path: Path, source: Settings, fresh_database: str | None
) -> None:
    from hub.store.leases import Leases

    store = EventStore(Database(source.database_url))
    await store.start()
    try:
        await asyncio.to_thread(backup, source, tmp_path / "b")
        leases = Leases(store.db, owner="kartei@büro-pc")
        assert await leases.acquire("scheduler")  # as a running Kartei holds its parts
        with pytest.raises(RestoreRefusedError, match=r"running on it .*kartei@büro-pc"):
            await asyncio.to_thread(
                restore,
                tmp_path / "b",
                source.source,  # type: ignore[arg-type]
                force=True,
            )
        # Restored elsewhere, the running Kartei's leases do not come along.
        await leases.release("scheduler")
        await leases.acquire("projection:contacts")
        await asyncio.to_thread(backup, source, tmp_path / "c")
    finally:
        await store.close()
    place = tmp_path / "elsewhere" / "kartei.toml"
    if fresh_database is not None:
        write_config(place.parent, fresh_database)
    await asyncio.to_thread(restore, tmp_path / "c", place)
    await asyncio.to_thread(restore, tmp_path / "c", place, force=True)  # not "running"


def test_a_damaged_backup_is_found(tmp_path: Path) -> None:
    """On the command line, as an admin checks last night's backup."""
    config = write_config(tmp_path / "firma", None)
    Archive(tmp_path / "firma" / "archive").put(b"Rechnung 4711" * 100)
    target = tmp_path / "backup"

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    # No running Kartei needed: the database is made (migrated) by the first start.
    asyncio.run(_migrate(load_settings(config)))
    made = run("backup", str(target), "--config", str(config))
    assert made.exit_code == 0, made.output
    assert "Gesichert und geprüft" in made.output  # German unless configured
    intact = run("backup", "verify", str(target))
    assert intact.exit_code == 0 and "unversehrt" in intact.output
    new = tmp_path / "neu" / "kartei.toml"
    restored = run("restore", str(target), "--config", str(new))
    assert restored.exit_code == 0, restored.output
    assert "Konfiguration der Sicherung" in restored.output and new.exists()
    again = run("restore", str(target), "--config", str(new))  # no events: no history
    assert again.exit_code == 0 and "0 Ereignisse bis Position 0 wiederhergestellt" in again.output

    manifest = Manifest.read(target)
    blob = next(target / rel for rel in manifest.files if rel.startswith("archive/"))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit flipped, size unchanged
    blob.write_bytes(bytes(data))
    checked = run("backup", "verify", str(target))
    assert checked.exit_code == 1
    assert "checksum does not match" in checked.output and blob.name in checked.output

    blob.unlink()
    with pytest.raises(BackupError, match="missing"):
        verify(target)
    (target / "manifest.json").unlink()
    with pytest.raises(BackupError, match="interrupted"):
        verify(target)
    assert run("backup", str(target), "--config", str(config)).exit_code == 1  # not empty


def test_a_backup_into_the_data_directory_leaves_itself_out(tmp_path: Path) -> None:
    config = write_config(tmp_path / "Firma Müller & Söhne", None)  # spaces, umlauts
    settings = load_settings(config)
    asyncio.run(_migrate(settings))
    (settings.data_dir / "notiz.txt").write_text("bleibt")
    manifest = backup(settings, settings.data_dir / "sicherung" / "heute")
    assert sorted(r for r in manifest.files if r.startswith("data/")) == ["data/notiz.txt"]
    later = backup(settings, settings.data_dir / "sicherung" / "morgen")  # not yesterday's
    assert sorted(r for r in later.files if r.startswith("data/")) == ["data/notiz.txt"]


def test_a_damaged_sqlite_copy_is_found_even_with_a_matching_manifest(tmp_path: Path) -> None:
    config = write_config(tmp_path / "firma", None)
    settings = load_settings(config)
    asyncio.run(_migrate(settings))
    target = tmp_path / "backup"
    backup(settings, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["event_count"] += 1  # a manifest that promises more than the copy holds
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="the manifest says 1"):
        verify(target)


def test_daily_backups_rotate_and_link_unchanged_blobs(tmp_path: Path) -> None:
    config = write_config(tmp_path / "firma", None)
    settings = load_settings(config)
    asyncio.run(_migrate(settings))
    Archive(settings.data_dir / "archive").put(b"Angebot" * 1000)
    root = tmp_path / "backups"
    day = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    for n in range(4):
        scheduled_backup(settings, root, keep_days=2, now=day + timedelta(days=n))
    names = sorted(p.name for p in root.iterdir())
    assert names == ["kartei-20261202-023000", "kartei-20261203-023000", "kartei-20261204-023000"]
    first, last = (root / names[0]), (root / names[-1])
    [rel] = [r for r in Manifest.read(last).files if r.startswith("archive/")]
    assert (first / rel).stat().st_ino == (last / rel).stat().st_ino  # linked, not copied
    verify(last)
    # The newest backup stays, however old.
    assert rotate(root, 1, now=day + timedelta(days=400)) == [root / names[0], root / names[1]]
    assert [p.name for p in root.iterdir()] == [names[-1]]


def test_a_second_backup_in_the_same_second_leaves_the_first_intact(tmp_path: Path) -> None:
    config = write_config(tmp_path / "firma", None)
    settings = load_settings(config)
    asyncio.run(_migrate(settings))
    root, now = tmp_path / "backups", datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    scheduled_backup(settings, root, keep_days=7, now=now)
    with pytest.raises(BackupError, match="same second"):
        scheduled_backup(settings, root, keep_days=7, now=now)
    verify(root / "kartei-20261201-030000")  # its failed twin did not clean it away


async def _migrate(settings: Settings) -> None:
    store = EventStore(Database(settings.database_url))
    await store.start()
    await store.close()


async def test_the_daily_backup_is_a_timed_job_that_reports_in_health(tmp_path: Path) -> None:
    config = write_config(tmp_path / "firma", None)
    config.write_text(
        config.read_text() + '[backup]\ndir = "../backups"\ntime = "03:15"\nkeep_days = 7\n'
    )
    settings = load_settings(config)
    await _migrate(settings)
    kartei = bootstrap(settings, adapters=[], policies=[], projections=[])
    job = kartei.scheduler.get_job("backup")
    assert job is not None and "hour='3', minute='15'" in str(job.trigger)
    await job.func()
    health = kartei.health.component("backup")
    assert health.state == "ok" and health.details["events"] == 0
    [made] = (tmp_path / "backups").iterdir()
    verify(made)
    await kartei.store.db.dispose()
