"""Importing an Outlook PST: folder by folder, in batches, resumable after a kill.

Each message is rebuilt as RFC 5322 bytes (pst_eml.py) and goes through the capture
pipeline as an mbox message does (archived raw, capture key, EmailReceived/EmailSent).
Its mailbox is `import:<file name>/<folder path>`. A batch's events and the folder's mark
(pst_progress.py) commit together. A message Kartei holds already (captured from the mail
server, or by an earlier import) is counted, not stored again (pst_known.py). A message
libpff cannot read stops its folder there, with the reason, and the other folders go on.
Which folders are read (not Deleted Items and Junk E-mail, unless asked for):
pst_folders.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.mail import pst, pst_known, pst_progress
from adapters.mail.pipeline import MailIntake, store_prepared
from adapters.mail.pst_eml import rebuild
from adapters.mail.pst_folders import FolderChoice, Skipped, select
from adapters.mail.pst_progress import FolderProgress
from hub.store import EventStore

BATCH = 200
Advance = Callable[[str, int, int], None]  # folder, messages read, messages in it


@dataclass(slots=True)
class FolderResult:
    """What one folder's import did."""

    folder: str
    total: int
    resumed_at: int = 0  # messages a stopped run had imported already
    read: int = 0  # up to here (resumed ones included)
    added: int = 0
    already: int = 0  # held already, e.g. captured from the mail server: not stored again
    not_mail: int = 0  # appointments, contacts, tasks, notes: left out
    error: pst.PstReadError | None = None  # why the folder stopped early


@dataclass(frozen=True, slots=True)
class PstImport:
    """What one file's import did: the folders read, the special ones left out."""

    folders: list[FolderResult]
    skipped: list[Skipped]


@dataclass(frozen=True, slots=True)
class _Run:
    store: EventStore
    intake: MailIntake
    file: str  # pst.fingerprint
    label: str
    advance: Advance
    batch: int


async def import_pst(
    store: EventStore,
    intake: MailIntake,
    path: Path,
    advance: Advance,
    *,
    choice: FolderChoice | None = None,
    skip: Callable[[Skipped], None] | None = None,
    batch: int | None = None,
) -> PstImport:
    """Imports the chosen folders, telling `skip` first what is left out; raises
    PstReadError when the file cannot be opened at all, UnknownFolder (before importing
    anything) when a folder asked for is not there."""
    handle = await asyncio.to_thread(pst.open_pst, path)
    try:
        found = await asyncio.to_thread(pst.folders, handle)
        chosen = select(found, choice or FolderChoice())
        for left_out in chosen.skipped:
            (skip or _ignore)(left_out)
        file = await asyncio.to_thread(pst.fingerprint, path)
        async with store.transaction() as tx:
            await pst_progress.ensure_table(tx.connection)
        async with store.db.read() as conn:
            marks = await pst_progress.load(conn, file)
        run = _Run(store, intake, file, f"import:{path.name}", advance, batch or BATCH)
        results = [
            await _import_folder(run, f, marks.get(pst_progress.folder_key(file, f.path)))
            for f in chosen.read
        ]
        return PstImport(results, chosen.skipped)
    finally:
        await asyncio.to_thread(handle.close)


def _ignore(_: Skipped) -> None:
    pass


async def _import_folder(
    run: _Run, folder: pst.PstFolder, mark: FolderProgress | None
) -> FolderResult:
    start = await asyncio.to_thread(_resume_at, folder, mark)
    result = FolderResult(folder.path, folder.messages, resumed_at=start, read=start)
    run.advance(folder.path, start, folder.messages)
    while result.read < folder.messages and result.error is None:
        items, result.error = await asyncio.to_thread(_read, folder, result.read, run.batch)
        if not items:
            break
        label = f"{run.label}/{folder.path}"
        raws = [(raw, label) for _, raw in items if raw is not None]
        result.not_mail += len(items) - len(raws)
        present = await pst_known.already_stored(run.store, [raw for raw, _ in raws])
        result.already += len(present)
        raws = [item for i, item in enumerate(raws) if i not in present]
        prepared = await run.intake.prepare_many(raws) if raws else []
        point = FolderProgress(result.read + len(items), items[-1][0])
        async with run.store.transaction() as tx:
            result.added += await store_prepared(tx, prepared, "import", sightings=False)
            await pst_progress.save(tx.connection, run.file, folder.path, point)
        result.read = point.done
        run.advance(folder.path, result.read, folder.messages)
    return result


def _read(
    folder: pst.PstFolder, start: int, size: int
) -> tuple[list[tuple[int, bytes | None]], pst.PstReadError | None]:
    """Up to `size` items as (node id, rebuilt bytes or None for an item that is no
    mail), and why reading stopped early."""
    items: list[tuple[int, bytes | None]] = []
    for index in range(start, min(start + size, folder.messages)):
        try:
            node, message = pst.read_message(folder, index)
            items.append((node, rebuild(message) if message is not None else None))
        except pst.PstReadError as err:
            return items, err
        except (ValueError, TypeError, LookupError) as err:  # the email package refused it
            number = index + 1
            return items, pst.PstReadError(
                pst.UNREBUILT, str(err), folder=folder.path, number=number
            )
    return items, None


def _resume_at(folder: pst.PstFolder, mark: FolderProgress | None) -> int:
    """Where a stopped run left off, if the file still has that message there."""
    if mark is None or not 0 < mark.done <= folder.messages:
        return 0
    try:
        node: Any = folder.handle.get_sub_message(mark.done - 1).identifier
    except OSError:
        return 0
    return mark.done if node == mark.last_node else 0
