"""Syncing one IMAP folder: new UIDs fetched, parsed, appended, checkpointed together.

Fetching (a thread), parsing (worker processes) and committing overlap: while one chunk
is parsed the next is fetched, and each chunk commits with its checkpoint in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from imapclient import IMAPClient

from adapters.imap import checkpoints, client
from adapters.imap.checkpoints import Checkpoint
from adapters.mail.pipeline import MailIntake, Prepared, store_prepared
from hub.capture import Capture

CHUNK = 200  # messages per fetch and per commit


@dataclass(slots=True)
class FolderResult:
    folder: str
    captured: int = 0
    seen: int = 0
    skipped: int = 0
    resynced: bool = False
    # Seconds spent fetching (IMAP thread), waiting for parsed chunks, and committing:
    # where a first sync's time goes (the benchmark prints them).
    timings: dict[str, float] = field(
        default_factory=lambda: {"fetch_s": 0.0, "parse_wait_s": 0.0, "commit_s": 0.0}
    )


Progress = Callable[[str, int, int], None]


async def sync_folder(
    imap: IMAPClient,
    account: str,
    folder: str,
    intake: MailIntake,
    capture: Capture,
    *,
    since: date | None = None,
    exclude_keywords: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> FolderResult:
    """Captures every message above the folder's checkpoint (all of them after a
    UIDVALIDITY change: the capture keys make that re-read append nothing twice)."""
    state = await asyncio.to_thread(client.select, imap, folder)
    async with capture.transaction() as tx:
        await checkpoints.ensure_table(tx.connection)
        point = await checkpoints.load(tx.connection, account, folder)
    result = FolderResult(folder)
    after = 0
    if point is not None and point.uidvalidity == state.uidvalidity:
        after = point.last_uid
    elif point is not None:
        result.resynced = True
    if state.uidnext is not None and after >= state.uidnext - 1 and not result.resynced:
        return result  # nothing new: no SEARCH needed
    uids = await asyncio.to_thread(client.new_uids, imap, after, since)
    if not uids:
        if point is None or result.resynced:
            async with capture.transaction() as tx:
                await checkpoints.save(
                    tx.connection, account, folder, Checkpoint(state.uidvalidity, after), 0
                )
        return result
    mailbox = f"imap:{account}/{folder}"
    queue: asyncio.Queue[tuple[int, asyncio.Task[list[Prepared]], int] | None] = asyncio.Queue(3)

    async def produce(group: asyncio.TaskGroup) -> None:
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            clock = time.perf_counter()
            fetched = await asyncio.to_thread(client.fetch, imap, chunk)
            result.timings["fetch_s"] += time.perf_counter() - clock
            kept = [f for f in fetched if not exclude_keywords.intersection(f.flags)]
            result.skipped += len(fetched) - len(kept)
            task = group.create_task(intake.prepare_many([(f.raw, mailbox) for f in kept]))
            await queue.put((chunk[-1], task, len(fetched)))
        await queue.put(None)

    async def commit() -> None:
        done = 0
        while (item := await queue.get()) is not None:
            last_uid, task, count = item
            clock = time.perf_counter()
            prepared = await task
            result.timings["parse_wait_s"] += time.perf_counter() - clock
            clock = time.perf_counter()
            async with capture.transaction() as tx:
                appended = await store_prepared(tx, prepared, capture.source)
                await checkpoints.save(
                    tx.connection,
                    account,
                    folder,
                    Checkpoint(state.uidvalidity, last_uid),
                    appended,
                )
            result.timings["commit_s"] += time.perf_counter() - clock
            result.captured += appended
            result.seen += len(prepared)
            done += count
            if progress is not None:
                progress(folder, done, len(uids))

    async with asyncio.TaskGroup() as group:
        group.create_task(produce(group))
        group.create_task(commit())
    return result
