"""The archive's disk fills up during SMTP intake: the sender is told to try again (451),
nothing is acknowledged that is not stored, and once space returns every message is
stored exactly once. A real filesystem that fills (a 640 KB tmpfs, mounted for the test;
skipped where mounting is not allowed)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules
from hub.archive import Archive
from hub.events.mail import EmailReceived
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import RULES
from tests.mail.test_smtp import JOURNAL, send, start
from tests.tmpfs import grow, small_tmpfs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "640k") as disk:
        yield disk


async def test_a_full_archive_disk_pauses_capture_and_loses_nothing(
    store: EventStore, small_disk: Path
) -> None:
    archive = Archive(small_disk / "archive")
    intake = MailIntake(archive, RULES, workers=1)
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 5_000_000)
    adapter, task = await start(store, intake, rules)
    assert adapter.bound_port is not None
    try:
        # Incompressible attachments: each message takes about 200 KB of the disk.
        mails = {
            n: messages.simple(n, attachment=os.urandom(150_000)).replace(b"\n", b"\r\n")
            for n in range(8)
        }
        codes = {}
        for n, raw in mails.items():
            codes[n], _ = await asyncio.to_thread(send, adapter.bound_port, raw)
        assert set(codes.values()) == {250, 451}, codes  # full: try again later
        acked = {n for n, code in codes.items() if code == 250}
        stored = [r.event for r in await store.read_all(0, 100)]
        assert len(stored) == len(acked)  # 250 only for what is stored; nothing else
        assert adapter.handler is not None
        await asyncio.to_thread(grow, small_disk)  # the admin makes room
        for n in sorted(set(mails) - acked):  # the sending server retries
            code, _ = await asyncio.to_thread(send, adapter.bound_port, mails[n])
            assert code == 250, n
        code, _ = await asyncio.to_thread(send, adapter.bound_port, mails[0])  # and once more
        assert code == 250
        events = [r.event for r in await store.read_all(0, 100)]
        assert all(isinstance(e, EmailReceived) for e in events)
        ids = sorted(e.message_id or "" for e in events if isinstance(e, EmailReceived))
        assert len(ids) == len(mails) == len(set(ids))  # each exactly once
        for event in events:
            assert isinstance(event, EmailReceived)
            assert archive.get(event.raw_ref) in mails.values()  # the raw kept whole
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        intake.close()
