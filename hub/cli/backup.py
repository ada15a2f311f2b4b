"""`kartei backup DIR`, `kartei backup verify DIR` and `kartei restore DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.backup import BackupError, backup, restore, verify
from hub.cli.common import ConfigOption, config_path, console, fail, settings


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
        try:
            manifest = verify(folder)
        except BackupError as err:
            fail(str(err), code=1)
        console.print(
            f"{folder}: intact ({manifest.database}, {manifest.event_count} events up to "
            f"position {manifest.last_position}, {len(manifest.files)} files, "
            f"taken {manifest.created_at})",
            highlight=False,
        )
        return
    if folder is not None:
        fail(f"unexpected argument {folder} (did you mean: kartei backup verify {folder}?)")
    loaded = settings(config)
    try:
        with console.status("Backing up ..."):
            manifest = backup(loaded, Path(target))
    except BackupError as err:
        fail(str(err), code=1)
    console.print(
        f"Backed up and verified: {manifest.event_count} events up to position "
        f"{manifest.last_position}, {len(manifest.files)} files in {target}.",
        highlight=False,
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
    try:
        with console.status("Restoring ..."):
            done = restore(folder, path, force=force)
    except BackupError as err:
        fail(str(err), code=1)
    if done.config_written:
        console.print(f"Wrote the backup's configuration to {path}.", highlight=False)
    console.print(
        f"Restored {done.manifest.event_count} events up to position "
        f"{done.manifest.last_position} (backup of {done.manifest.created_at}). "
        f"Start Kartei with: kartei run --config {path}",
        highlight=False,
    )
