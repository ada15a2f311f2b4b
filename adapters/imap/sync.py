"""Syncing one IMAP folder: new UIDs fetched, parsed, appended, checkpointed together.

Fetching and parsing (worker processes) overlap with committing: while one chunk commits
the next ones are fetched and parsed, and each chunk commits with its checkpoint in UID
order. Many new messages (a first sync) are fetched by the workers themselves, each over
its own connection (`remote`), so the raw bytes never reach the main process, whose one
core is left for committing and the projections; a few (new mail after IDLE) are fetched
here, which is quicker than a worker's own login.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date

from imapclient import IMAPClient

from adapters.imap import checkpoints, client, remote
from adapters.imap.checkpoints import Checkpoint
from adapters.mail.pipeline import SLICE, MailIntake, Prepared, store_prepared
from hub.capture import Capture
from hub.settings import ImapAccount

CHUNK = 200  # messages per fetch and per commit
REMOTE_MIN = 2 * SLICE  # fewer new messages are fetched here (see sync_folder)


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
        default_factory=lambda: {
            "fetch_s": 0.0,
            "parse_wait_s": 0.0,
            "commit_s": 0.0,
            "worker_cpu_s": 0.0,
        }
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
    remote_account: ImapAccount | None = None,
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
    load: Load
    if remote_account is not None and len(uids) >= REMOTE_MIN:
        job = remote.SliceJob(remote_account, folder, state.uidvalidity, exclude_keywords, mailbox)
        load = _in_workers(intake, job, result)
    else:
        load = _here(imap, intake, exclude_keywords, mailbox, result)
    queue: asyncio.Queue[tuple[int, asyncio.Task[tuple[list[Prepared], int]]] | None]
    queue = asyncio.Queue(3)

    async def produce(group: asyncio.TaskGroup) -> None:
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            await queue.put((chunk[-1], group.create_task(load(chunk))))
        await queue.put(None)

    async def commit() -> None:
        done = 0
        while (item := await queue.get()) is not None:
            last_uid, task = item
            clock = time.perf_counter()
            prepared, count = await task
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


Load = Callable[[list[int]], Coroutine[object, None, tuple[list[Prepared], int]]]


def _here(
    imap: IMAPClient,
    intake: MailIntake,
    exclude_keywords: frozenset[str],
    mailbox: str,
    result: FolderResult,
) -> Load:
    """Fetches through this process's connection (one chunk at a time, in order) and
    parses in the workers: for a few new messages, where a worker's own login costs more."""
    fetching = asyncio.Lock()  # one connection: its fetches one after the other

    async def load(chunk: list[int]) -> tuple[list[Prepared], int]:
        async with fetching:
            clock = time.perf_counter()
            fetched = await asyncio.to_thread(client.fetch, imap, chunk)
            result.timings["fetch_s"] += time.perf_counter() - clock
        kept = client.without_keywords(fetched, exclude_keywords)
        result.skipped += len(fetched) - len(kept)
        return await intake.prepare_many([(f.raw, mailbox) for f in kept]), len(fetched)

    return load


def _in_workers(intake: MailIntake, job: remote.SliceJob, result: FolderResult) -> Load:
    """Fetches, parses and archives in the worker processes, a slice of UIDs per task,
    each worker over its own connection: the raw bytes never reach this process. The
    chunk's blobs are made durable here, with one sync for all its slices."""

    async def load(chunk: list[int]) -> tuple[list[Prepared], int]:
        slices = [tuple(chunk[i : i + SLICE]) for i in range(0, len(chunk), SLICE)]
        done = await asyncio.gather(
            *(intake.in_worker(remote.fetch_and_prepare, job, s) for s in slices)
        )
        items = [item for part in done for item in part.items]
        await asyncio.to_thread(intake.archive.sync, [ref for item in items for ref in item.refs])
        intake.count_skipped(items)
        result.skipped += sum(part.skipped for part in done)
        result.timings["fetch_s"] += sum(part.fetch_s for part in done)
        result.timings["worker_cpu_s"] += sum(part.cpu_s for part in done)
        return items, sum(part.fetched for part in done)

    return load
