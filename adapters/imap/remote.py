"""Fetching inside the mail intake's worker processes, for big syncs (a first sync).

Each worker holds its own IMAP connection per account (opened on first use, reopened
after an error) and turns a slice of UIDs into `Prepared` items: fetch (BODY.PEEK[] and
FLAGS, read-only select), parse, archive. The raw bytes never pass through the main
process, which keeps the UID list, the order of commits and the checkpoints.

A connection error leaves the worker as the same exception (pickled), so the account's
reconnect-with-backoff loop in the main process handles it as before.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from adapters.imap import client
from adapters.mail.pipeline import MailRules, Prepared, prepare_batch
from hub.settings import ImapAccount


class FolderChanged(IMAPClientError):
    """The folder's UIDVALIDITY is not the one the sync started with (the folder was
    recreated): the UIDs mean other messages now, so the sync starts over."""


@dataclass(frozen=True, slots=True)
class SliceJob:
    """What every slice of one folder's sync shares."""

    account: ImapAccount
    folder: str
    uidvalidity: int
    exclude_keywords: frozenset[str]
    mailbox: str
    # One per sync: a worker selects the folder afresh for a new sync (and checks
    # UIDVALIDITY), once per sync, not per slice.
    sync_id: str = field(default_factory=lambda: os.urandom(8).hex())


@dataclass(frozen=True, slots=True)
class SliceResult:
    items: list[Prepared]
    fetched: int  # messages the server returned (expunged ones are missing)
    skipped: int  # left out for an excluded keyword
    fetch_s: float  # wall time of the IMAP round trips in the worker
    cpu_s: float  # this task's CPU time in the worker (fetch parsing, parse, archive)


@dataclass(slots=True)
class _Connection:
    account: ImapAccount
    imap: IMAPClient
    selected: tuple[str, str] | None = None  # (folder, sync_id)


_connections: dict[str, _Connection] = {}  # per account name, in this worker process


def fetch_and_prepare(
    job: SliceJob, uids: tuple[int, ...], rules: MailRules, archive_root: str
) -> SliceResult:
    """Runs in a worker: the slice's messages fetched, parsed and archived; the caller
    makes the blobs durable (`Archive.sync`, once for many slices)."""
    cpu = time.process_time()
    clock = time.perf_counter()
    fetched = _fetch(job, uids)
    fetch_s = time.perf_counter() - clock
    kept = client.without_keywords(fetched, job.exclude_keywords)
    items = prepare_batch([(f.raw, job.mailbox) for f in kept], rules, archive_root, sync=False)
    return SliceResult(
        items, len(fetched), len(fetched) - len(kept), fetch_s, time.process_time() - cpu
    )


def _fetch(job: SliceJob, uids: tuple[int, ...]) -> list[client.Fetched]:
    held = _connections.get(job.account.name)
    if held is not None and held.account == job.account:
        try:
            return _fetch_on(held, job, uids)
        except client.TRANSPORT_ERRORS:
            _drop(job.account.name)  # gone stale while idle (server timeout, restart): reopen
    else:
        _drop(job.account.name)  # the account's settings changed
    held = _Connection(job.account, client.connect(job.account))
    _connections[job.account.name] = held
    try:
        return _fetch_on(held, job, uids)
    except BaseException:
        _drop(job.account.name)
        raise


def _fetch_on(held: _Connection, job: SliceJob, uids: tuple[int, ...]) -> list[client.Fetched]:
    if held.selected != (job.folder, job.sync_id):
        held.selected = None
        state = client.select(held.imap, job.folder)
        if state.uidvalidity != job.uidvalidity:
            raise FolderChanged(
                f"{job.folder}: UIDVALIDITY {state.uidvalidity}, sync began at {job.uidvalidity}"
            )
        held.selected = (job.folder, job.sync_id)
    return client.fetch(held.imap, uids)


def _drop(name: str) -> None:
    held = _connections.pop(name, None)
    if held is not None:
        with contextlib.suppress(Exception):  # a broken connection: nothing more to do
            held.imap.shutdown()
