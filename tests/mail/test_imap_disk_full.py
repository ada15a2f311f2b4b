"""The archive's disk fills up during IMAP capture (the real Dovecot): the pass fails and
the adapter retries later, the folder's checkpoint does not move past any message that is
not stored, and once space returns every message is captured exactly once, its raw kept
whole. The same small tmpfs as tests/mail/test_disk_full.py (skipped without root)."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import pytest

from adapters.imap import checkpoints, client, sync
from adapters.imap.adapter import passing_error
from adapters.mail.pipeline import MailIntake
from hub.archive import Archive, ArchiveError
from hub.capture import Capture
from hub.events.mail import EmailReceived
from hub.health import ComponentHealth
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import RULES, account_for, imap_login
from tests.mail.dovecot import Dovecot
from tests.mail.test_disk_full import grow, small_disk

__all__ = ["small_disk"]  # the fixture


async def test_a_full_archive_disk_pauses_imap_capture_and_loses_nothing(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, small_disk: Path
) -> None:
    account = account_for(dovecot, mailbox_user)
    archive = Archive(small_disk / "archive")
    intake = MailIntake(archive, RULES, workers=1)
    capture = Capture(store, "imap", ComponentHealth("imap"))
    sender = imap_login(dovecot, mailbox_user)
    imap = await asyncio.to_thread(client.connect, account)

    async def sync_inbox() -> sync.FolderResult:
        return await sync.sync_folder(imap, account.name, "INBOX", intake, capture)

    async def checkpoint() -> int:
        async with capture.transaction() as tx:
            await checkpoints.ensure_table(tx.connection)
            point = await checkpoints.load(tx.connection, account.name, "INBOX")
        return 0 if point is None else point.last_uid

    async def received() -> list[EmailReceived]:
        events = [r.event for r in await store.read_all(0, 100)]
        return [e for e in events if isinstance(e, EmailReceived)]

    try:
        # Incompressible attachments: each message takes about 200 KB of the 640 KB disk.
        for n in range(6):
            raw = messages.simple(n, attachment=os.urandom(150_000)).replace(b"\n", b"\r\n")
            sender.append("INBOX", raw)
        with pytest.raises(BaseException) as failed:  # what the adapter's loop retries on
            await sync_inbox()
        error = passing_error(failed.value)  # the adapter backs off and tries again
        assert isinstance(error, ArchiveError), failed.value
        assert f"[Errno {errno.ENOSPC}]" in str(error), error
        stored = await received()
        point = await checkpoint()
        # Nothing past the checkpoint is stored, nothing up to it is missing.
        assert len(stored) == point < 6, (len(stored), point)
        await asyncio.to_thread(grow, small_disk)  # the admin makes room
        result = await sync_inbox()
        assert result.captured == 6 - len(stored)
        assert (await sync_inbox()).captured == 0  # and once more: nothing new
        assert await checkpoint() == 6
        events = await received()
        ids = [e.message_id for e in events]
        assert len(ids) == 6 == len(set(ids))  # each exactly once
        sender.select_folder("INBOX")
        bodies = sender.fetch(sender.search("ALL"), ["BODY.PEEK[]"])
        originals = {bytes(data[b"BODY[]"]) for data in bodies.values()}
        assert {archive.get(e.raw_ref) for e in events} == originals  # the raw kept whole
    finally:
        sender.logout()
        await asyncio.to_thread(client.logout, imap)
        intake.close()
