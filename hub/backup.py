"""Backup and restore: a consistent, verified snapshot of store, archive and configuration.

A backup is a folder::

    manifest.json        what is in it: every file's size and SHA-256, the number of
                         events, the last position and a digest of the log up to it
    database.sqlite      SQLite: a copy made with SQLite's online backup API
    database.pgdump      PostgreSQL: `pg_dump --format=custom` of Kartei's schema
    archive/...          the archive's blobs, as they lie in <data_dir>/archive
    config/kartei.toml   the configuration file (and <data_dir>/classifier, if any)

It is taken while Kartei runs. The database copy is one snapshot (SQLite: one backup
step under one read transaction, which WAL lets writers pass; PostgreSQL: pg_dump in a
snapshot exported from the transaction that counted the events). The archive is copied
after it: capture stores a blob before the event that names it, so every blob the
snapshot's events refer to is there already. The manifest is written last; a folder
without one is an interrupted backup. Blobs are immutable, so a daily backup links the
blobs the previous one holds instead of copying them again.

On PostgreSQL pg_dump fails with "cache lookup failed for index" (or "relation ... does
not exist") when another process creates or drops tables while it reads the catalogue (a
first start on a new schema, an upgrade that adds a read model): the database's part is
then taken again, in a new snapshot, up to CATALOGUE_TRIES times, CATALOGUE_PAUSE_SECONDS
apart. Nothing else is tried again here (pg_dump missing, a full disk): those need a
person.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

import hub
from hub.settings import Settings

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
_CHUNK = 1 << 20
# Folders the scheduled backup makes (and rotation may remove): kartei-YYYYmmdd-HHMMSS.
_SCHEDULED = re.compile(r"^kartei-\d{8}-\d{6}$")
# pg_dump met a table or index that another transaction dropped meanwhile: its snapshot
# still lists it, the catalogue's functions and LOCK TABLE no longer find it (seen with
# PostgreSQL 15 while another connection creates and drops tables with indexes).
_CATALOGUE_RACE = re.compile(r'ERROR:\s+(cache lookup failed for |relation "[^"]+" does not exist)')
CATALOGUE_TRIES = 4  # pg_dump runs at most this often per backup
CATALOGUE_PAUSE_SECONDS = 2.0  # between them: the tables' creation is over by then
RETRY_AFTER = timedelta(hours=1)  # a failed daily backup is tried again this much later


class BackupError(Exception):
    """A backup cannot be written, read or restored; the message says why."""


class CatalogueChangedError(BackupError):
    """pg_dump read a table or index that another process created or dropped meanwhile;
    a new snapshot a moment later does not meet it."""


class RestoreRefusedError(BackupError):
    """The target holds a history (or a running Kartei) that a restore would replace."""


@dataclass
class Manifest:
    created_at: str
    kartei_version: str
    database: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    event_count: int
    last_position: int
    events_sha256: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    extensions: list[str] = field(default_factory=list)
    format: int = FORMAT

    def as_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=1, sort_keys=True).encode()

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise BackupError(
                f"{folder}: no {MANIFEST} (not a backup, or an interrupted one)"
            ) from None
        except (ValueError, UnicodeDecodeError) as err:
            raise BackupError(f"{path}: damaged ({err})") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BackupError(f"{path}: not a Kartei backup manifest of format {FORMAT}")
        try:
            return cls(**raw)
        except TypeError as err:
            raise BackupError(f"{path}: damaged ({err})") from None


@dataclass(frozen=True)
class LogSummary:
    event_count: int
    last_position: int
    events_sha256: str


# -- what both databases share ------------------------------------------------------------


def summarize_log(conn: sa.Connection, upto: int | None = None) -> LogSummary:
    """Count, last position and a SHA-256 over every event (position, stream, version,
    type, payload and metadata bytes, key) up to `upto`: equal digests, equal logs."""
    digest = hashlib.sha256()
    count = last = 0
    query = "SELECT position, stream, version, type, data, metadata, idempotency_key FROM events"
    params: dict[str, int] = {}
    if upto is not None:
        query += " WHERE position <= :upto"
        params["upto"] = upto
    result = conn.execute(sa.text(query + " ORDER BY position"), params)
    for row in result:
        digest.update(json.dumps(list(row), ensure_ascii=False).encode())
        digest.update(b"\n")
        count += 1
        last = int(row[0])
    return LogSummary(count, last, digest.hexdigest())


def _revision(conn: sa.Connection) -> str | None:
    with contextlib.suppress(sa.exc.DBAPIError):
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(src: Path, dst: Path) -> dict[str, Any]:
    """Copies a file (flushed to disk) and says its size and checksum."""
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    shutil.copymode(src, dst)  # a key file stays readable by its owner only
    return {"size": size, "sha256": digest.hexdigest()}


def _tree(root: Path) -> Iterator[Path]:
    """Files under `root` in a stable order, without temporary files (names with a dot)."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name


def _fsync_tree(root: Path) -> None:
    for folder, _dirs, _files in os.walk(root):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _read_only(path: Path) -> str:
    """A read-only SQLite URI for a file (any characters in its name quoted)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _sync_url(url: URL) -> URL:
    return url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore without its password (that goes in PGPASSWORD)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} not found: install the PostgreSQL client tools") from None
    if done.returncode != 0:
        error = CatalogueChangedError if _CATALOGUE_RACE.search(done.stderr) else BackupError
        raise error(f"{argv[0]} failed: {done.stderr.strip() or done.returncode}")
    return done


# -- backup -----------------------------------------------------------------------------


def backup(settings: Settings, target: Path, *, previous: Path | None = None) -> Manifest:
    """Writes a backup of the running (or stopped) Kartei to `target` (new or empty),
    verifies it by reading it back, and returns its manifest.

    `previous`: an earlier backup whose identical archive blobs are linked, not copied.
    """
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes to a new folder")
    target.mkdir(parents=True, exist_ok=True)
    url = make_url(settings.database_url)
    files: dict[str, dict[str, Any]] = {}
    if url.get_backend_name() == "sqlite":
        summary, revision, extensions = _backup_sqlite(url, target / SQLITE_FILE)
        files[SQLITE_FILE] = {"size": (target / SQLITE_FILE).stat().st_size}
        files[SQLITE_FILE]["sha256"] = _sha256(target / SQLITE_FILE)
    else:
        summary, revision, extensions = _backup_postgres(url, target / PG_FILE)
        files[PG_FILE] = {
            "size": (target / PG_FILE).stat().st_size,
            "sha256": _sha256(target / PG_FILE),
        }
    earlier = _earlier_files(previous)
    archive = settings.data_dir / "archive"
    for path in _tree(archive):
        rel = "archive/" + path.relative_to(archive).as_posix()
        files[rel] = _link_or_copy(path, target / rel, rel, previous, earlier.get(rel))
    for rel, src in _config_files(settings, target.resolve()):
        files[rel] = _copy(src, target / rel)
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        kartei_version=hub.__version__,
        database=url.get_backend_name(),
        schema_revision=revision,
        event_count=summary.event_count,
        last_position=summary.last_position,
        events_sha256=summary.events_sha256,
        files=files,
        extensions=extensions,
    )
    tmp = target / f".{MANIFEST}.tmp"
    tmp.write_bytes(manifest.as_json())
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target / MANIFEST)
    _fsync_tree(target)
    verify(target)
    log.info(
        "backup %s: %d events up to position %d, %d files",
        target,
        manifest.event_count,
        manifest.last_position,
        len(files),
    )
    return manifest


def _backup_sqlite(url: URL, dst: Path) -> tuple[LogSummary, str | None, list[str]]:
    src_path = _sqlite_path(url)
    if not src_path.exists():
        raise BackupError(f"{src_path}: no such database")
    src = sqlite3.connect(_read_only(src_path), uri=True, timeout=30)
    out = sqlite3.connect(dst)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        # One step (pages=-1): the whole file under one read transaction, so the copy is
        # one consistent moment; in WAL mode writers go on meanwhile.
        src.backup(out, pages=-1)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        out.commit()
    finally:
        out.close()
        src.close()
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())
    engine = sa.create_engine(f"sqlite:///{dst}", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return summarize_log(conn), _revision(conn), []
    finally:
        engine.dispose()


def _backup_postgres(url: URL, dst: Path) -> tuple[LogSummary, str | None, list[str]]:
    """The database's part, taken again in a new snapshot when pg_dump met a catalogue
    that changed under it (see the module's note)."""
    for attempt in range(1, CATALOGUE_TRIES + 1):
        try:
            return _dump_postgres(url, dst)
        except CatalogueChangedError as err:
            if attempt == CATALOGUE_TRIES:
                raise
            log.warning(
                "backup: %s; dumping again in %g s (try %d of %d)",
                err,
                CATALOGUE_PAUSE_SECONDS,
                attempt + 1,
                CATALOGUE_TRIES,
            )
            dst.unlink(missing_ok=True)
            time.sleep(CATALOGUE_PAUSE_SECONDS)  # in the backup's thread, not on the loop
    raise AssertionError("unreachable")


def _dump_postgres(url: URL, dst: Path) -> tuple[LogSummary, str | None, list[str]]:
    engine = sa.create_engine(_sync_url(url), poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
                summary = summarize_log(conn)
                revision = _revision(conn)
                extensions = list(
                    conn.execute(
                        sa.text(
                            "SELECT e.extname FROM pg_extension e JOIN pg_namespace n"
                            " ON n.oid = e.extnamespace WHERE n.nspname = :schema"
                            " ORDER BY e.extname"
                        ),
                        {"schema": schema},
                    ).scalars()
                )
                conninfo, env = _libpq(url)
                # The dump sees exactly what the summary counted (same snapshot).
                _run(
                    [
                        "pg_dump",
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--schema={schema}",
                        "--no-owner",
                        "--no-privileges",
                        f"--file={dst}",
                        f"--dbname={conninfo}",
                    ],
                    env,
                )
    finally:
        engine.dispose()
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())
    return summary, revision, extensions


def _config_files(settings: Settings, target: Path) -> Iterator[tuple[str, Path]]:
    """The configuration file, and every other file of the data directory (the archive's
    signing key, a trained classifier head, ...) but the database, the archive and
    backups: as config/kartei.toml and data/<path>."""
    config = settings.source.resolve() if settings.source is not None else None
    if config is not None and config.is_file():
        yield "config/kartei.toml", config
    data = settings.data_dir
    skip = {data / "archive", target}  # (a backup may be written into the data directory)
    if (backups := settings.backup_dir) is not None:
        skip.add(backups)
    url = make_url(settings.database_url)
    database = Path(url.database or "").resolve() if url.get_backend_name() == "sqlite" else None
    for path in _tree(data):
        if any(path.is_relative_to(folder) for folder in skip) or path == config:
            continue
        inside = path.relative_to(data).parents  # the folders between data_dir and the file
        if any((data / folder / MANIFEST).exists() for folder in inside if folder.parts):
            continue  # an earlier backup kept in the data directory
        if database is not None and path.name.startswith(database.name):
            continue  # the database, its -wal, -shm and replaced copies
        yield "data/" + path.relative_to(data).as_posix(), path


def _earlier_files(previous: Path | None) -> dict[str, dict[str, Any]]:
    if previous is None:
        return {}
    try:
        return Manifest.read(previous).files
    except BackupError:
        return {}


def _link_or_copy(
    src: Path, dst: Path, rel: str, previous: Path | None, earlier: dict[str, Any] | None
) -> dict[str, Any]:
    """Links the previous backup's copy of an archive blob when it is the same file (blobs
    never change: a name is a hash of the content), else copies it."""
    if previous is not None and earlier is not None:
        candidate = previous / rel
        try:
            if candidate.stat().st_size == src.stat().st_size == earlier.get("size"):
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.link(candidate, dst)
                return {"size": earlier["size"], "sha256": earlier["sha256"]}
        except (OSError, KeyError):
            pass
    return _copy(src, dst)


# -- verify -----------------------------------------------------------------------------


def verify(folder: Path) -> Manifest:
    """Reads every file of a backup back and checks it against its manifest; for SQLite
    also the database's integrity and its log (count, last position, digest)."""
    folder = Path(folder)
    manifest = Manifest.read(folder)
    problems: list[str] = []
    for rel, expected in sorted(manifest.files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        if path.stat().st_size != expected.get("size"):
            problems.append(f"{rel}: size {path.stat().st_size}, expected {expected.get('size')}")
        elif _sha256(path) != expected.get("sha256"):
            problems.append(f"{rel}: checksum does not match (damaged)")
    if problems:
        raise BackupError(f"{folder}: backup damaged: " + "; ".join(problems[:20]))
    if manifest.database == "sqlite":
        _verify_sqlite(folder / SQLITE_FILE, manifest)
    else:
        _run(["pg_restore", "--list", str(folder / PG_FILE)], dict(os.environ))
    return manifest


def _verify_sqlite(path: Path, manifest: Manifest) -> None:
    uri = _read_only(path)
    engine = sa.create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=sa.NullPool
    )
    try:
        with engine.connect() as conn:
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if check != "ok":
                raise BackupError(f"{path}: database damaged ({check})")
            _compare(summarize_log(conn), manifest, str(path))
    except sa.exc.DBAPIError as err:
        raise BackupError(f"{path}: cannot read the database ({err.orig})") from None
    finally:
        engine.dispose()


def _compare(found: LogSummary, manifest: Manifest, where: str) -> None:
    expected = LogSummary(manifest.event_count, manifest.last_position, manifest.events_sha256)
    if found != expected:
        raise BackupError(
            f"{where}: holds {found.event_count} events up to position {found.last_position}, "
            f"the manifest says {expected.event_count} up to {expected.last_position}"
            + ("" if found.event_count != expected.event_count else " (payloads differ)")
        )


# -- restore ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    config: Path
    config_written: bool


def restore(
    folder: Path,
    config: Path,
    *,
    force: bool = False,
    load: Callable[[Path], Settings] | None = None,
) -> Restored:
    """Restores a backup for the configuration at `config`.

    When `config` does not exist, the backup's configuration is written there (its
    relative data_dir then lies beside it). The database named by the configuration and
    its <data_dir>/archive receive the backup; a database that holds any event is
    replaced only with `force` (never while a Kartei runs on it).
    """
    from hub.settings import load_settings

    folder = Path(folder)
    manifest = verify(folder)
    written = False
    if not config.exists():
        if "config/kartei.toml" not in manifest.files:
            raise BackupError(f"{config} does not exist and the backup holds no configuration")
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "config/kartei.toml", config)
        written = True
    settings = (load or load_settings)(config)
    url = make_url(settings.database_url)
    if url.get_backend_name() != manifest.database:
        raise BackupError(
            f"the backup holds a {manifest.database} database; "
            f"{config} names {url.get_backend_name()}"
        )
    if manifest.database == "sqlite":
        _restore_sqlite(folder / SQLITE_FILE, url, manifest, force)
    else:
        _restore_postgres(folder / PG_FILE, url, manifest, force)
    archive = settings.data_dir / "archive"
    for rel, expected in manifest.files.items():
        if rel.startswith("archive/"):
            dst = archive / rel.removeprefix("archive/")
            if dst.exists() and dst.stat().st_size == expected["size"]:
                continue  # blobs are content-addressed: the same name holds the same bytes
            copied = _copy(folder / rel, dst)
            if copied["sha256"] != expected["sha256"]:
                raise BackupError(f"{rel}: damaged while copying")
        elif rel.startswith("data/"):
            dst = settings.data_dir / rel.removeprefix("data/")
            if force or not dst.exists():
                _copy(folder / rel, dst)
    if archive.exists():
        _fsync_tree(archive)
    return Restored(manifest, config, written)


def _describe_target(summary: LogSummary, manifest: Manifest, where: str) -> str:
    newer = "a newer" if summary.last_position > manifest.last_position else "a"
    return (
        f"{where} holds {newer} history ({summary.event_count} events up to position "
        f"{summary.last_position}; the backup ends at {manifest.last_position}): "
        "restoring would replace it. Use --force to replace it anyway"
    )


def _running(conn: sa.Connection) -> list[str]:
    """Owners of unexpired leases: a Kartei that runs on this database (by the database's
    clock on PostgreSQL, as hub/store/leases.py writes them)."""
    now = datetime.now(UTC).timestamp()
    if conn.dialect.name == "postgresql":
        now = float(conn.scalar(sa.text("SELECT extract(epoch FROM clock_timestamp())")))
    with contextlib.suppress(sa.exc.DBAPIError):
        rows = conn.execute(
            sa.text("SELECT DISTINCT owner FROM leases WHERE expires_at > :now"), {"now": now}
        )
        return [str(r[0]) for r in rows]
    return []


def _existing_history(engine: sa.Engine) -> tuple[LogSummary | None, list[str]]:
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        if "events" not in tables:
            return None, []
        row = conn.execute(sa.text("SELECT count(*), coalesce(max(position), 0) FROM events")).one()
        running = _running(conn) if "leases" in tables else []
        return LogSummary(int(row[0]), int(row[1]), ""), running


def _restore_sqlite(src: Path, url: URL, manifest: Manifest, force: bool) -> None:
    path = _sqlite_path(url)
    if path.exists():
        engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.NullPool)
        try:
            summary, running = _existing_history(engine)
        finally:
            engine.dispose()
        if running:
            raise RestoreRefusedError(
                f"{path}: Kartei is running on it ({', '.join(running)}); stop it first"
            )
        if summary is not None and summary.event_count and not force:
            raise RestoreRefusedError(_describe_target(summary, manifest, str(path)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.restoring")
    _copy(src, tmp)
    if path.exists():
        # Kept, not deleted: a forced restore can be undone by hand.
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        os.replace(path, path.with_name(f"{path.name}.replaced-{stamp}"))
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            _compare(summarize_log(conn), manifest, str(path))
        _forget_leases(engine)
    finally:
        engine.dispose()


def _restore_postgres(src: Path, url: URL, manifest: Manifest, force: bool) -> None:
    engine = sa.create_engine(_sync_url(url), poolclass=sa.NullPool)
    try:
        summary, running = _existing_history(engine)
        where = url.render_as_string(hide_password=True).split("@")[-1]
        if running:
            raise RestoreRefusedError(
                f"{where}: Kartei is running on it ({', '.join(running)}); stop it first"
            )
        if summary is not None and summary.event_count and not force:
            raise RestoreRefusedError(_describe_target(summary, manifest, where))
        with engine.begin() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
            if schema is None:  # the search_path names a schema that is not there yet
                schema = conn.execute(sa.text("SHOW search_path")).scalar_one().split(",")[0]
                schema = schema.strip().strip('"')
            quoted = '"' + schema.replace('"', '""') + '"'
            if summary is not None:  # replace: empty the schema first
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quoted} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
            for name in manifest.extensions:
                conn.exec_driver_sql(
                    f'CREATE EXTENSION IF NOT EXISTS "{name}" WITH SCHEMA {quoted}'
                )
        conninfo, env = _libpq(url)
        listing = _run(["pg_restore", "--list", str(src)], env).stdout
        # The schema exists now: leave out the dump's CREATE SCHEMA (and its comment).
        keep = [
            line for line in listing.splitlines() if not re.search(r"\b(SCHEMA|COMMENT) - ", line)
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as lst:
            lst.write("\n".join(keep) + "\n")
        try:
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--use-list={lst.name}",
                    f"--dbname={conninfo}",
                    str(src),
                ],
                env,
            )
        finally:
            os.unlink(lst.name)
        with engine.connect() as conn:
            _compare(summarize_log(conn), manifest, where)
        _forget_leases(engine)
    finally:
        engine.dispose()


def _forget_leases(engine: sa.Engine) -> None:
    """The backed-up Kartei's leases (held by processes of the old installation) would keep
    the restored one waiting for them to expire: they go."""
    with engine.begin() as conn:
        if "leases" in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql("DELETE FROM leases")


# -- the daily backup ---------------------------------------------------------------------


def scheduled_backup(
    settings: Settings, root: Path, keep_days: int, now: datetime | None = None
) -> Manifest:
    """One daily backup into `root`/kartei-YYYYmmdd-HHMMSS, then rotation: backups older
    than `keep_days` are removed, but never the newest verified one."""
    now = now or datetime.now(UTC)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackupError(f"cannot write backups into {root}: {err}") from err
    earlier = _scheduled(root)
    previous = earlier[-1][1] if earlier else None
    target = root / f"kartei-{now.strftime('%Y%m%d-%H%M%S')}"
    try:
        target.mkdir()  # claimed here: a folder of the same second stays its backup's
    except FileExistsError:
        raise BackupError(f"{target} exists: another backup started in the same second") from None
    except OSError as err:
        raise BackupError(f"cannot write backups into {root}: {err}") from err
    try:
        manifest = backup(settings, target, previous=previous)
    except BackupError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    except OSError as err:  # a full disk, a folder Kartei may not write
        shutil.rmtree(target, ignore_errors=True)
        raise BackupError(f"cannot write the backup {target}: {err}") from err
    rotate(root, keep_days, now)
    return manifest


def _scheduled(root: Path) -> list[tuple[datetime, Path]]:
    found = []
    for path in root.iterdir() if root.is_dir() else ():
        if path.is_dir() and _SCHEDULED.match(path.name) and (path / MANIFEST).exists():
            stamp = datetime.strptime(path.name, "kartei-%Y%m%d-%H%M%S").replace(tzinfo=UTC)
            found.append((stamp, path))
    return sorted(found)


def rotate(root: Path, keep_days: int, now: datetime | None = None) -> list[Path]:
    """Removes scheduled backups older than `keep_days` (the newest always stays)."""
    now = now or datetime.now(UTC)
    found = _scheduled(root)
    removed = []
    for stamp, path in found[:-1]:
        if now - stamp > timedelta(days=keep_days):
            shutil.rmtree(path)
            removed.append(path)
    return removed


def schedule_backup(settings: Settings, kartei: Any) -> None:
    """Adds the daily backup at [backup] time to Kartei's scheduler, when [backup] dir is
    set; its outcome shows in health as "backup"."""
    root = settings.backup_dir
    if root is None:
        return
    import asyncio

    from hub.schedule import daily

    health = kartei.health.component("backup")
    health.set("ok", dir=str(root), last=None)
    keep = settings.backup.keep_days

    async def run() -> None:
        try:
            manifest = await asyncio.to_thread(scheduled_backup, settings, root, keep)
        except Exception as err:
            # Seen in health until a backup succeeds; raised, so the day's run stays
            # unfinished and the scheduler tries again RETRY_AFTER later (hub/schedule.py).
            failed = datetime.now(UTC)
            log.error("the daily backup failed: %s", err)
            health.set(
                "degraded",
                str(err),
                dir=str(root),
                failed_at=failed.isoformat(timespec="seconds"),
                retry_at=(failed + RETRY_AFTER).isoformat(timespec="seconds"),
            )
            raise
        health.set(
            "ok",
            dir=str(root),
            last=manifest.created_at,
            events=manifest.event_count,
            last_position=manifest.last_position,
            failed_at=None,
            retry_at=None,
        )

    daily(
        kartei.scheduler,
        run,
        settings.backup.time,
        settings.kartei.timezone,
        "backup",
        retry_after=RETRY_AFTER,
    )
