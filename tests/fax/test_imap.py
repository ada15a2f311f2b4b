"""Faxes from an IMAP folder of a real Dovecot (the email tests' server), exactly once."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from adapters.fax.imap import FaxImapFolder
from adapters.fax.intake import FaxIntake, FaxRules
from hub.archive import Archive
from hub.capture import Capture
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed, EmailSeenInMailbox
from hub.health import ComponentHealth
from hub.store import EventStore
from tests.fax import messages
from tests.fax.conftest import PROFILES, Documents, all_events, deliver
from tests.mail.conftest import account_for, dovecot, mailbox_user  # noqa: F401 (fixtures)
from tests.mail.dovecot import Dovecot
from tests.mail.test_imap import append


async def test_fax_folder_is_captured_once(
    store: EventStore,
    dovecot: Dovecot,  # noqa: F811
    mailbox_user: str,  # noqa: F811
    archive: Archive,
    docs: Documents,
    start_server,
) -> None:
    fax = messages.placetel(docs.text_layer)
    smtp = await start_server()
    assert await deliver(smtp.port, fax) == 250  # the same fax also came by SMTP
    append(
        dovecot,
        mailbox_user,
        "Fax",
        [fax, messages.placetel(b"%PDF-broken"), b"Subject: x\r\n\r\nno fax"],
    )
    account = account_for(dovecot, mailbox_user)
    adapter = FaxImapFolder(account, "Fax", FaxIntake(archive, FaxRules(PROFILES), None), 0.1)
    task = asyncio.create_task(adapter.run(Capture(store, adapter.name, ComponentHealth("x"))))
    try:
        async with asyncio.timeout(30):
            await adapter.synced.wait()
        adapter.synced.clear()
        async with asyncio.timeout(30):
            await adapter.synced.wait()  # a second pass appends nothing more
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
    events = [r.event for r in await all_events(store)]
    received = [e for e in events if isinstance(e, FaxReceived)]
    assert len(received) == 2 and received[0].mailboxes == ("smtp:fax",)
    assert received[1].mailboxes == (f"imap:fax-{mailbox_user}/Fax",)
    assert "unreadable PDF" in received[1].document_error
    [seen] = [e for e in events if isinstance(e, EmailSeenInMailbox)]
    assert seen.mailbox == f"imap:fax-{mailbox_user}/Fax"
    [failed] = [e for e in events if isinstance(e, CaptureFailed)]
    assert "no fax document" in failed.error
