"""The archive's disk fills up during fax capture: from an IMAP folder (the real Dovecot)
the capture pauses (degraded health, back-off) instead of crashing; over SMTP the sender is
told to try again (451). Once space returns every fax is captured exactly once. The small
tmpfs of tests/mail/test_disk_full.py."""

from __future__ import annotations

import asyncio
import errno
import os
from contextlib import suppress
from pathlib import Path

import pytest

from adapters.fax.imap import FaxImapFolder
from adapters.fax.intake import FaxIntake, FaxRules
from hub.archive import Archive
from hub.capture import Capture
from hub.events.fax import FaxReceived
from hub.health import ComponentHealth
from hub.store import EventStore
from tests.fax import messages
from tests.fax.conftest import PROFILES, all_events, deliver
from tests.mail.conftest import account_for, dovecot, mailbox_user  # noqa: F401 (fixtures)
from tests.mail.dovecot import Dovecot
from tests.mail.test_disk_full import grow, small_disk  # noqa: F401 (fixture)
from tests.mail.test_imap import append


@pytest.fixture
def archive(small_disk: Path) -> Archive:  # noqa: F811 - the fax server's, on the small disk
    return Archive(small_disk / "archive")


async def test_a_full_archive_disk_pauses_fax_capture_from_imap(
    store: EventStore,
    dovecot: Dovecot,  # noqa: F811
    mailbox_user: str,  # noqa: F811
    small_disk: Path,  # noqa: F811
) -> None:
    # Incompressible documents: each fax takes about 250 KB of the 640 KB disk.
    faxes = [messages.placetel(b"%PDF-" + os.urandom(100_000)) for _ in range(4)]
    append(dovecot, mailbox_user, "Fax", faxes)
    account = account_for(dovecot, mailbox_user)
    intake = FaxIntake(Archive(small_disk / "archive"), FaxRules(PROFILES), None)
    adapter = FaxImapFolder(account, "Fax", intake, 0.1)
    health = ComponentHealth("fax")
    task = asyncio.create_task(adapter.run(Capture(store, adapter.name, health)))
    try:
        async with asyncio.timeout(30):
            while health.state != "degraded":  # noqa: ASYNC110 - a poll under a timeout
                await asyncio.sleep(0.05)
        assert f"[Errno {errno.ENOSPC}]" in (health.error or ""), health.error
        assert not task.done()  # paused, not crashed
        stored = [r.event for r in await all_events(store)]
        assert len([e for e in stored if isinstance(e, FaxReceived)]) < len(faxes)
        await asyncio.to_thread(grow, small_disk)  # the admin makes room
        adapter.synced.clear()
        async with asyncio.timeout(30):
            await adapter.synced.wait()
        adapter.synced.clear()
        async with asyncio.timeout(30):
            await adapter.synced.wait()  # a second pass appends nothing more
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        intake.close()
    received = [r.event for r in await all_events(store) if isinstance(r.event, FaxReceived)]
    assert len(received) == len(faxes)
    assert len({e.document_ref for e in received}) == len(faxes)  # each exactly once


async def test_a_full_archive_disk_answers_fax_senders_451(
    store: EventStore,
    small_disk: Path,  # noqa: F811
    start_server,  # type: ignore[no-untyped-def]
) -> None:
    faxes = [messages.placetel(b"%PDF-" + os.urandom(100_000)) for _ in range(4)]
    smtp = await start_server()
    codes = [await deliver(smtp.port, fax) for fax in faxes]
    assert set(codes) == {250, 451}, codes  # full: try again later
    stored = [r.event for r in await all_events(store) if isinstance(r.event, FaxReceived)]
    assert len(stored) == codes.count(250)  # 250 only for what is stored
    await asyncio.to_thread(grow, small_disk)  # the admin makes room
    for fax, code in zip(faxes, codes, strict=True):
        if code != 250:  # the sending server retries
            assert await deliver(smtp.port, fax) == 250
    assert await deliver(smtp.port, faxes[0]) == 250  # and once more
    received = [r.event for r in await all_events(store) if isinstance(r.event, FaxReceived)]
    assert len(received) == len(faxes)
    assert len({e.document_ref for e in received}) == len(faxes)  # each exactly once
