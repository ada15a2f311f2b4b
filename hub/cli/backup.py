"""`kartei backup DIR`, `kartei backup verify DIR` and `kartei restore DIR`.

They speak the configured language ([kartei] language, German by default; German where no
configuration can be read yet, as before a restore). The reasons of hub/backup.py's
BackupError are English."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from hub.backup import BackupError, Manifest, backup, restore, verify
from hub.cli.common import ConfigOption, config_path, console, fail, settings
from hub.cli.words import Words
from hub.settings import ConfigError, KarteiSection, load_settings
from hub.web.i18n import format_datetime


def _words(path: Path) -> tuple[Words, ZoneInfo]:
    """The configuration's language and time zone, or the defaults where it cannot be
    read (a restore into an empty folder; a backup checked elsewhere)."""
    try:
        section = load_settings(path).kartei
    except (ConfigError, OSError):
        section = KarteiSection.model_construct()
    try:
        zone = ZoneInfo(section.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return Words(section.language or "de"), zone


def _taken(manifest: Manifest, say: Words, zone: ZoneInfo) -> str:
    """When the backup was taken, as the language writes it ("07.12.2026 13:12")."""
    try:
        return format_datetime(datetime.fromisoformat(manifest.created_at), say.language, zone)
    except ValueError:
        return manifest.created_at


def _print(line: str) -> None:
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def backup_command(
    target: Annotated[
        str,
        typer.Argument(
            help="New (or empty) folder for the backup; or 'verify'.", show_default=False
        ),
    ],
    folder: Annotated[
        Path | None,
        typer.Argument(help="With 'verify': the backup to check.", show_default=False),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Back up store, archive and configuration while Kartei runs, and check the copy.

    `kartei backup verify DIR` reads a backup back and checks every file's checksum (and,
    for SQLite, the database and its events) against its manifest.
    """
    if target == "verify" and folder is not None:
        say, zone = _words(config_path(config))
        try:
            manifest = verify(folder)
        except BackupError as err:
            fail(escape(str(err)), code=1)
        events = say.counted(manifest.event_count, "{count} event", "{count} events")
        _print(
            say(
                "{folder}: intact ({database}, {events} up to position {position}, "
                "{files} files, taken {taken})",
                folder=str(folder),
                database=manifest.database,
                events=events,
                position=str(manifest.last_position),  # an address, not an amount
                files=len(manifest.files),
                taken=_taken(manifest, say, zone),
            )
        )
        return
    loaded = settings(config)
    say = Words(loaded.kartei.language)
    if folder is not None:
        fail(
            escape(
                say(
                    "unexpected argument {folder} (did you mean: kartei backup verify {folder}?)",
                    folder=str(folder),
                )
            )
        )
    try:
        with console.status(say("Backing up ...")):
            manifest = backup(loaded, Path(target))
    except BackupError as err:
        fail(escape(str(err)), code=1)
    _print(
        say(
            "Backed up and verified: {events} up to position {position}, {files} files in "
            "{target}.",
            events=say.counted(manifest.event_count, "{count} event", "{count} events"),
            position=str(manifest.last_position),  # an address, not an amount
            files=len(manifest.files),
            target=target,
        )
    )


def restore_command(
    folder: Annotated[Path, typer.Argument(help="The backup folder.", show_default=False)],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already holds a history."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Restore a backup into the database and data directory of the configuration.

    Where the configuration file does not exist yet, the backup's own is written there
    first (an empty folder becomes a working Kartei). Kartei must not be running.
    """
    path = config_path(config)
    say, _ = _words(path)
    try:
        with console.status(say("Restoring ...")):
            done = restore(folder, path, force=force)
    except BackupError as err:
        fail(escape(str(err)), code=1)
    say, zone = _words(path)  # the backup's own configuration, where it was written
    if done.config_written:
        _print(say("Wrote the backup's configuration to {path}.", path=str(path)))
    _print(
        say(
            "Restored {events} up to position {position} (backup of {taken}). "
            "Start Kartei with: kartei run --config {path}",
            events=say.counted(done.manifest.event_count, "{count} event", "{count} events"),
            position=str(done.manifest.last_position),
            taken=_taken(done.manifest, say, zone),
            path=str(path),
        )
    )
