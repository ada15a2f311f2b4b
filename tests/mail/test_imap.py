"""IMAP capture against a real Dovecot: first sync, checkpoints, UIDVALIDITY, IDLE, restarts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress

import pytest
import sqlalchemy as sa

from adapters.imap import checkpoints, client, sync
from adapters.imap.adapter import ImapAccountCapture
from adapters.mail.pipeline import MailIntake, prepare_batch
from hub.capture import Capture
from hub.events.mail import EmailReceived, EmailSeenInMailbox, EmailSent
from hub.health import ComponentHealth
from hub.settings import ImapAccount
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import RULES, account_for, imap_login
from tests.mail.dovecot import Dovecot

SENT = "Gesendete Objekte"


def append(
    dovecot: Dovecot, user: str, folder: str, raws: list[bytes], flags: tuple[str, ...] = ()
) -> None:
    imap = imap_login(dovecot, user)
    try:
        if folder not in [name for _, _, name in imap.list_folders()]:
            imap.create_folder(folder)
        for raw in raws:
            imap.append(folder, raw, flags=flags)
    finally:
        imap.logout()


@asynccontextmanager
async def running(
    store: EventStore,
    account: ImapAccount,
    intake: MailIntake,
    health: ComponentHealth | None = None,
) -> AsyncIterator[ImapAccountCapture]:
    adapter = ImapAccountCapture(account, intake)
    health = health or ComponentHealth(adapter.name)
    task = asyncio.create_task(adapter.run(Capture(store, adapter.name, health)))
    try:
        yield adapter
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], object], seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not await _value(condition()):  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.05)


async def _value(value: object) -> object:
    return await value if asyncio.iscoroutine(value) else value


async def emails(store: EventStore) -> list[object]:
    return [r.event for r in await store.read_all(0, 10_000)]


async def test_first_sync_inbox_and_sent_without_touching_the_mailbox(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    inbox = [messages.simple(n) for n in range(30)]
    sent = [
        messages.simple(100 + n, sender="info@firma.example", to=f"k{n}@extern.example")
        for n in range(5)
    ]
    await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", inbox)
    await asyncio.to_thread(append, dovecot, mailbox_user, SENT, sent)
    account = account_for(dovecot, mailbox_user)
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
    events = await emails(store)
    assert sum(isinstance(e, EmailReceived) for e in events) == 30
    assert sum(isinstance(e, EmailSent) for e in events) == 5
    assert {e.mailboxes for e in events if isinstance(e, EmailSent)} == {
        (f"imap:{mailbox_user}/{SENT}",)
    }
    imap = imap_login(dovecot, mailbox_user)
    imap.select_folder("INBOX", readonly=True)
    assert all(
        b"\\Seen" not in f[b"FLAGS"] for f in imap.fetch(imap.search("ALL"), ["FLAGS"]).values()
    )
    imap.logout()
    async with store.db.read() as conn:
        rows = {r["folder"]: r for r in await checkpoints.all_rows(conn)}
    assert rows["INBOX"]["last_uid"] == 30 and rows["INBOX"]["messages"] == 30


async def test_resumes_after_checkpoint_and_idle_brings_new_mail(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    await asyncio.to_thread(
        append, dovecot, mailbox_user, "INBOX", [messages.simple(n) for n in range(5)]
    )
    account = account_for(dovecot, mailbox_user, poll_seconds=600, idle_seconds=600)
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
    assert len(await emails(store)) == 5
    await asyncio.to_thread(
        append, dovecot, mailbox_user, "INBOX", [messages.simple(n) for n in range(5, 8)]
    )
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
        assert len(await emails(store)) == 8
        # Polling is 10 minutes away: only IDLE can bring this one in time.
        await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", [messages.simple(99)])
        await until(lambda: adapter.passes >= 2, seconds=10)
    assert len(await emails(store)) == 9


async def test_uidvalidity_change_resyncs_without_duplicates(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    raws = [messages.simple(n) for n in range(4)]
    await asyncio.to_thread(append, dovecot, mailbox_user, "Projekte", raws)
    account = account_for(dovecot, mailbox_user, folders=["Projekte"])
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)

    def recreate() -> None:
        imap = imap_login(dovecot, mailbox_user)
        imap.delete_folder("Projekte")
        imap.logout()
        append(dovecot, mailbox_user, "Projekte", [*raws, messages.simple(50)])

    await asyncio.to_thread(recreate)
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
    assert [type(e) for e in await emails(store)] == [EmailReceived] * 5


async def test_same_mail_in_two_mailboxes_is_one_email_with_both(
    store: EventStore, dovecot: Dovecot, intake: MailIntake
) -> None:
    anna, bernd = dovecot.take_user(), dovecot.take_user()
    raw = messages.simple(1, to="anna@firma.example, bernd@firma.example")
    await asyncio.to_thread(
        append, dovecot, anna, "INBOX", [b"Delivered-To: anna@firma.example\r\n" + raw]
    )
    await asyncio.to_thread(
        append, dovecot, bernd, "INBOX", [b"Delivered-To: bernd@firma.example\r\n" + raw]
    )
    for user in (anna, bernd, anna):
        async with running(store, account_for(dovecot, user), intake) as adapter:
            await until(lambda: adapter.passes >= 1)
    received, seen = await emails(store)
    assert isinstance(received, EmailReceived) and received.mailboxes == (f"imap:{anna}/INBOX",)
    assert isinstance(seen, EmailSeenInMailbox) and seen.mailbox == f"imap:{bernd}/INBOX"


async def test_private_keyword_is_not_captured(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    await asyncio.to_thread(
        append, dovecot, mailbox_user, "INBOX", [messages.simple(1)], ("$Private",)
    )
    await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", [messages.simple(2)])
    async with running(store, account_for(dovecot, mailbox_user), intake) as adapter:
        await until(lambda: adapter.passes >= 1)
    [only] = await emails(store)
    assert only.message_id == "<msg-2@kunde.example>"


async def test_reconnects_after_dovecot_restart(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    account = account_for(dovecot, mailbox_user, poll_seconds=600, idle_seconds=600)
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
        await asyncio.to_thread(dovecot.restart)
        await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", [messages.simple(7)])
        # Reconnecting waits out a backoff (1 s, 2 s, ...) while Dovecot comes back.
        await until(lambda: emails_count(store, 1), seconds=90)


async def emails_count(store: EventStore, n: int) -> bool:
    return len(await store.read_all(0, 100)) >= n


async def captured_ids(store: EventStore) -> list[str | None]:
    return [
        r.event.message_id
        for r in await store.read_all(0, 100_000, types=["EmailReceived"])
        if isinstance(r.event, EmailReceived)
    ]


async def checkpoint(store: EventStore, folder: str = "INBOX") -> int:
    try:
        async with store.db.read() as conn:
            rows = {r["folder"]: r for r in await checkpoints.all_rows(conn)}
    except sa.exc.DBAPIError:
        return 0  # the adapter has not created its table yet
    return int(rows[folder]["last_uid"]) if folder in rows else 0  # type: ignore[call-overload]


async def test_dovecot_restarted_mid_sync_resumes_without_duplicates_or_gaps(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    total = 1500
    imap = imap_login(dovecot, mailbox_user)
    await asyncio.to_thread(imap.multiappend, "INBOX", [messages.simple(n) for n in range(total)])
    imap.logout()
    account = account_for(dovecot, mailbox_user, poll_seconds=600, idle_seconds=600)
    health = ComponentHealth("imap")
    async with running(store, account, intake, health) as adapter:
        await until(lambda: _between(checkpoint(store), 1, total - 1), seconds=60)
        await asyncio.to_thread(dovecot.restart)  # mid-sync: the session breaks under it
        await until(lambda: adapter.passes >= 1 and health.state == "ok", seconds=90)
    # The restart cut the first pass (a cut in IDLE afterwards would make it pass 2).
    assert health.last_error is not None and adapter.passes == 1
    assert adapter.folders["INBOX"]["error"] is None
    ids = await captured_ids(store)
    assert len(ids) == total and set(ids) == {f"<msg-{n}@kunde.example>" for n in range(total)}
    assert await checkpoint(store) == total


async def _between(value: object, low: int, high: int) -> bool:
    got = await value  # type: ignore[misc]
    return bool(low <= got <= high)


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    """A Dovecot with a certificate from a test CA: implicit TLS and STARTTLS."""
    server = Dovecot(tls=True)
    server.start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_verify_the_server_against_the_ca_file(
    store: EventStore, dovecot_tls: Dovecot, intake: MailIntake, security: str
) -> None:
    user = dovecot_tls.take_user()
    await asyncio.to_thread(append, dovecot_tls, user, "INBOX", [messages.simple(1)])
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    account = account_for(
        dovecot_tls, user, security=security, port=port, ca_file=str(dovecot_tls.ca_file)
    )
    imap = await asyncio.to_thread(client.connect, account)
    try:
        cipher = imap.socket().cipher()  # type: ignore[attr-defined]
        assert cipher is not None  # the session really is encrypted
    finally:
        await asyncio.to_thread(client.logout, imap)
    async with running(store, account, intake) as adapter:
        await until(lambda: adapter.passes >= 1)
    assert await captured_ids(store) == ["<msg-1@kunde.example>"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_a_wrong_ca_is_a_clear_error_in_health(
    store: EventStore, dovecot_tls: Dovecot, intake: MailIntake, security: str
) -> None:
    user = dovecot_tls.take_user()
    await asyncio.to_thread(append, dovecot_tls, user, "INBOX", [messages.simple(1)])
    port = dovecot_tls.tls_port if security == "tls" else dovecot_tls.port
    account = account_for(
        dovecot_tls, user, security=security, port=port, ca_file=str(dovecot_tls.wrong_ca_file)
    )
    health = ComponentHealth("imap")
    async with running(store, account, intake, health):
        await until(lambda: health.state == "degraded")
    assert health.error is not None
    assert health.error.startswith(f"UntrustedCertificate: 127.0.0.1:{port}: ")
    assert "certificate is not trusted" in health.error
    assert str(dovecot_tls.wrong_ca_file) in health.error
    assert await captured_ids(store) == []


async def test_an_unreadable_ca_file_is_a_clear_error(dovecot_tls: Dovecot) -> None:
    account = account_for(dovecot_tls, "anna", security="tls", ca_file="/nonexistent/ca.pem")
    with pytest.raises(client.UntrustedCertificate, match="cannot read ca_file /nonexistent"):
        client.connect(account)


async def test_a_big_sync_is_fetched_by_the_workers_read_only_with_the_same_events(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    raws = [messages.simple(n, html="<p>Hallo</p>" if n % 7 == 0 else None) for n in range(40)]
    raws[3] = messages.simple(3, attachment=b"%PDF-1.4 Rechnung")
    await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", raws)
    private = [messages.simple(n) for n in range(40, 42)]
    await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", private, ("$Private",))
    account = account_for(dovecot, mailbox_user)
    imap = await asyncio.to_thread(client.connect, account)
    try:
        await asyncio.to_thread(client.select, imap, "INBOX")
        fetched = await asyncio.to_thread(client.fetch, imap, range(1, 41))  # as fetched here
        result = await sync.sync_folder(
            imap,
            account.name,
            "INBOX",
            intake,
            Capture(store, "imap", ComponentHealth("imap")),
            exclude_keywords=frozenset(account.exclude_keywords),
            remote_account=account,
        )
    finally:
        await asyncio.to_thread(client.logout, imap)
    assert len(raws) + len(private) >= sync.REMOTE_MIN
    assert result.timings["worker_cpu_s"] > 0  # fetched and parsed in the workers
    assert (result.captured, result.skipped) == (40, 2)
    assert await checkpoint(store) == 42
    mailbox = f"imap:{mailbox_user}/INBOX"
    root = str(intake.archive.root)
    expected = prepare_batch([(f.raw, mailbox) for f in fetched], RULES, root)
    assert await emails(store) == [item.event for item in expected]
    imap = imap_login(dovecot, mailbox_user)
    imap.select_folder("INBOX", readonly=True)
    flags = imap.fetch(imap.search("ALL"), ["FLAGS"]).values()
    imap.logout()
    assert all(b"\\Seen" not in f[b"FLAGS"] for f in flags)


async def test_the_workers_stop_with_the_last_adapter_that_uses_them(
    store: EventStore, dovecot: Dovecot, mailbox_user: str, intake: MailIntake
) -> None:
    raws = [messages.simple(n) for n in range(sync.REMOTE_MIN)]  # enough for the workers
    await asyncio.to_thread(append, dovecot, mailbox_user, "INBOX", raws)
    account = account_for(dovecot, mailbox_user)
    async with running(store, account, intake) as first:
        async with running(store, account_for(dovecot, dovecot.take_user()), intake):
            await until(lambda: first.passes >= 1)
            pids = intake.worker_pids()
            assert pids  # the sync ran in the worker processes
        assert intake.worker_pids() == pids  # one adapter still runs: they stay
    assert intake.worker_pids() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
