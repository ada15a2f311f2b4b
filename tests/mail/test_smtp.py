"""The SMTP journal intake with the standard library's real SMTP client on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.archive import Archive
from hub.capture import Capture
from hub.events.mail import EmailReceived
from hub.health import ComponentHealth
from hub.store import EventStore
from tests.mail import messages
from tests.mail.conftest import RULES

JOURNAL = "journal@kartei.example"


async def start(
    store: EventStore, intake: MailIntake, rules: IntakeRules
) -> tuple[SmtpJournalIntake, asyncio.Task[None]]:
    adapter = SmtpJournalIntake("127.0.0.1", 0, rules, intake)
    capture = Capture(store, "smtp", ComponentHealth("adapter:smtp"))
    task = asyncio.create_task(adapter.run(capture))
    async with asyncio.timeout(10):
        await adapter.ready.wait()
    return adapter, task


@pytest.fixture
async def server(store: EventStore, intake: MailIntake) -> AsyncIterator[SmtpJournalIntake]:
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000)
    adapter, task = await start(store, intake, rules)
    yield adapter
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def send(port: int, raw: bytes, rcpt: str = JOURNAL) -> tuple[int, bytes]:
    """One delivery with smtplib; the server's answer to DATA (or the refusal)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("mx.firma.example")
        code, reply = client.mail("mx@firma.example", [f"SIZE={len(raw)}"])
        if code != 250:
            return code, reply
        code, reply = client.rcpt(rcpt)
        if code != 250:
            return code, reply
        return client.data(raw)


async def test_delivery_is_stored_before_250(store: EventStore, server: SmtpJournalIntake) -> None:
    code, _ = await asyncio.to_thread(send, server.bound_port, messages.simple(1))
    assert code == 250
    [recorded] = await store.read_all(0, 10)  # committed before the answer, no waiting
    assert isinstance(recorded.event, EmailReceived)
    assert recorded.event.mailboxes == ("smtp:journal",)
    code, _ = await asyncio.to_thread(send, server.bound_port, messages.simple(1))
    assert code == 250 and len(await store.read_all(0, 10)) == 1  # redelivery: no duplicate


async def test_the_archived_raw_is_the_message_as_sent(
    store: EventStore, server: SmtpJournalIntake, intake: MailIntake
) -> None:
    body = ".\n..two dots stay two after unstuffing\n.\nGrüße\n"
    raw = messages.simple(5, body=body, attachment=b"%PDF" * 5000).replace(b"\n", b"\r\n")
    code, _ = await asyncio.to_thread(send, server.bound_port, raw)
    assert code == 250
    [recorded] = await store.read_all(0, 10)
    assert isinstance(recorded.event, EmailReceived) and recorded.event.raw_ref is not None
    assert intake.archive.get(recorded.event.raw_ref) == raw  # dot-stuffing undone exactly
    assert recorded.event.text.startswith(".\n..two dots")


async def test_refusals_are_permanent(store: EventStore, server: SmtpJournalIntake) -> None:
    code, _ = await asyncio.to_thread(send, server.bound_port, messages.simple(1), "x@y.example")
    assert code == 550
    big = messages.simple(2, attachment=b"x" * 2_500_000)
    code, _ = await asyncio.to_thread(send, server.bound_port, big)
    assert code == 552
    assert await store.read_all(0, 10) == []


async def test_client_network_is_checked(store: EventStore, intake: MailIntake) -> None:
    rules = IntakeRules.of([], ["10.0.0.0/8"], 1_000_000)
    assert not rules.client_allowed(("127.0.0.1", 1))
    assert rules.client_allowed(("::ffff:10.1.2.3", 1, 0, 0))
    adapter, task = await start(store, intake, rules)
    code, _ = await asyncio.to_thread(send, adapter.bound_port, messages.simple(1))
    assert code == 554
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ipaddress.ip_network("10.0.0.0/8") in rules.client_networks


async def test_storage_problem_is_temporary(
    store: EventStore, tmp_path: Path, server: SmtpJournalIntake, intake: MailIntake
) -> None:
    archive_root = Path(intake.archive.root)
    await asyncio.to_thread(archive_root.write_bytes, b"not a directory: archive unwritable")
    code, _ = await asyncio.to_thread(send, server.bound_port, messages.simple(3))
    assert code == 451
    assert await store.read_all(0, 10) == []
    await asyncio.to_thread(archive_root.unlink)
    code, _ = await asyncio.to_thread(send, server.bound_port, messages.simple(3))
    assert code == 250
    assert len(await store.read_all(0, 10)) == 1


async def test_four_connections_every_250_is_stored_once(
    store: EventStore, server: SmtpJournalIntake
) -> None:
    def deliver(first: int) -> list[dict[str, object]]:
        with smtplib.SMTP("127.0.0.1", server.bound_port, timeout=30) as client:
            return [
                client.sendmail("mx@firma.example", [JOURNAL], messages.simple(n))
                for n in range(first, first + 25)
            ]

    results = await asyncio.gather(*(asyncio.to_thread(deliver, i * 100) for i in range(4)))
    assert all(refused == {} for sent in results for refused in sent)
    assert len(await store.read_all(0, 1000)) == 100


async def test_senders_and_recipients_stay_out_of_the_log(
    store: EventStore, intake: MailIntake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # as `kartei run` logs by default
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000)
    adapter, task = await start(store, intake, rules)
    assert adapter.bound_port is not None
    code, _ = await asyncio.to_thread(send, adapter.bound_port, messages.simple(7))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert code == 250
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mx@firma.example" not in logged and JOURNAL not in logged


def test_archive_fixture_is_used(archive: Archive, intake: MailIntake) -> None:
    assert intake.archive is archive and RULES.is_own("a@firma.example")
