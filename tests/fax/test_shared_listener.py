"""Mail and fax on one SMTP listener: the fax addresses are routed to the fax intake."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.fax.build import fax_adapters
from adapters.fax.intake import FaxIntake, FaxRouteHealth, FaxRules, fax_route
from adapters.mail.build import mail_adapters
from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from hub.archive import Archive
from hub.bootstrap import bootstrap, run
from hub.capture import Capture
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed, EmailReceived
from hub.health import ComponentHealth
from hub.settings import ConfigError, load_settings, settings_from_dict
from hub.store import EventStore
from tests.fax import messages
from tests.fax.conftest import FAX_ADDRESS, PROFILES, Documents, all_events
from tests.mail import messages as mail_messages
from tests.mail.conftest import RULES

JOURNAL = "journal@kartei.example"


@pytest.fixture
async def listener(store: EventStore, archive: Archive) -> AsyncIterator[SmtpJournalIntake]:
    """The mail journal intake with the fax address routed to the fax intake."""
    mail = MailIntake(archive, RULES, workers=1)
    fax = FaxIntake(archive, FaxRules(PROFILES))
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 4_000_000)
    adapter = SmtpJournalIntake("127.0.0.1", 0, rules, mail, [fax_route([FAX_ADDRESS], fax)])
    task = asyncio.create_task(adapter.run(Capture(store, "smtp", ComponentHealth("smtp"))))
    async with asyncio.timeout(10):
        await adapter.ready.wait()
    yield adapter
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    mail.close()


def send(port: int | None, raw: bytes, *recipients: str) -> int:
    """One delivery with smtplib to all `recipients`; the answer to DATA (or the refusal)."""
    assert port is not None
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.ehlo("mx.firma.example")
        client.mail("mx@firma.example")
        for rcpt in recipients:
            code, _ = client.rcpt(rcpt)
            if code != 250:
                return code
        return client.data(raw)[0]


async def test_mail_and_fax_on_one_listener(
    store: EventStore, listener: SmtpJournalIntake, archive: Archive, docs: Documents
) -> None:
    port = listener.bound_port
    fax_raw, mail_raw = messages.sipgate(docs.text_layer), mail_messages.simple(1)
    assert await asyncio.to_thread(send, port, fax_raw, FAX_ADDRESS.upper()) == 250
    assert await asyncio.to_thread(send, port, mail_raw, JOURNAL) == 250
    events = [r.event for r in await all_events(store)]  # committed before each 250
    [fax] = [e for e in events if isinstance(e, FaxReceived)]
    [mail] = [e for e in events if isinstance(e, EmailReceived)]
    assert fax.mailboxes == ("smtp:fax",) and fax.sender == "+49891234560" and fax.pages == 2
    assert "Reklamation" in fax.text and archive.get(fax.raw_ref) == fax_raw
    assert mail.mailboxes == ("smtp:journal",)
    assert await asyncio.to_thread(send, port, fax_raw, FAX_ADDRESS) == 250
    assert await asyncio.to_thread(send, port, mail_raw, JOURNAL) == 250
    assert len(await all_events(store)) == 2  # redeliveries: exactly once on either route
    assert await asyncio.to_thread(send, port, mail_raw, "other@kartei.example") == 550


async def test_a_message_to_fax_and_journal_is_stored_once_as_fax(
    store: EventStore, listener: SmtpJournalIntake, docs: Documents
) -> None:
    raw = messages.fritzbox(docs.text_layer)
    for order in ((JOURNAL, FAX_ADDRESS), (FAX_ADDRESS, JOURNAL)):
        assert await asyncio.to_thread(send, listener.bound_port, raw, *order) == 250
    [recorded] = await all_events(store)
    assert isinstance(recorded.event, FaxReceived)  # the fax route wins, whatever the order
    # An ordinary email sent to the fax address is the fax intake's: kept, with the reason.
    plain = mail_messages.simple(2)
    assert await asyncio.to_thread(send, listener.bound_port, plain, FAX_ADDRESS) == 250
    failed = (await all_events(store))[-1].event
    assert isinstance(failed, CaptureFailed) and failed.source == "smtp:fax"


async def test_route_health_names_missing_ocr_languages() -> None:
    health = ComponentHealth("adapter:fax-smtp")
    adapter = FaxRouteHealth([FAX_ADDRESS], "deu+qqq")
    task = asyncio.create_task(adapter.run(Capture(None, "fax-smtp", health)))  # type: ignore[arg-type]
    async with asyncio.timeout(30):
        await adapter.checked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert health.state == "degraded" and "tesseract-ocr-qqq" in (health.error or "")
    assert FAX_ADDRESS in health.details["route"]


def test_listener_mail_config_routes_on_the_mail_listener(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(
        "[mail.smtp]\nenabled = true\naccept_recipients = ['journal@kartei.example']\n"
        "[fax]\nenabled = true\nsmtp_listener = 'mail'\n"
        "accept_recipients = ['Fax@Kartei.example']\n"
    )
    settings = load_settings(config)
    mail = mail_adapters(settings)
    [health] = fax_adapters(settings, mail)
    [smtp] = [a for a in mail if isinstance(a, SmtpJournalIntake)]
    [route] = smtp.routes
    assert isinstance(health, FaxRouteHealth) and route.recipients == {"fax@kartei.example"}
    assert route.mailbox == "smtp:fax" and isinstance(route.intake, FaxIntake)


def test_listener_mail_needs_the_mail_listener_and_addresses(tmp_path: Path) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(
        "[fax]\nenabled = true\nsmtp_listener = 'mail'\naccept_recipients = ['f@x']\n"
    )
    with pytest.raises(ConfigError, match=r"\[mail.smtp\] enabled"):
        fax_adapters(load_settings(config), [])
    config.write_text(
        "[mail.smtp]\nenabled = true\n[fax]\nenabled = true\nsmtp_listener = 'mail'\n"
    )
    settings = load_settings(config)
    with pytest.raises(ConfigError, match="accept_recipients"):
        fax_adapters(settings, mail_adapters(settings))
    config.write_text("[fax]\nenabled = true\nsmtp_listener = 'off'\n")
    assert fax_adapters(load_settings(config)) == []


async def test_the_running_kartei_serves_mail_and_fax_on_one_port(
    tmp_path: Path, database_url: str, docs: Documents
) -> None:
    """The composition root wires the route: one [mail.smtp] port, both kinds stored."""
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "database": {"url": database_url},
            "classifier": {"enabled": False},
            "mail": {"smtp": {"enabled": True, "port": 0, "accept_recipients": [JOURNAL]}},
            "fax": {"enabled": True, "smtp_listener": "mail", "accept_recipients": [FAX_ADDRESS]},
        }
    )
    kartei = bootstrap(settings, policies=[])
    [smtp] = [a for a in kartei.adapters if isinstance(a, SmtpJournalIntake)]
    assert [a.name for a in kartei.adapters] == ["smtp", "fax-smtp"]  # no second listener
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop, web=False))
    try:
        async with asyncio.timeout(30):
            await smtp.ready.wait()
        fax_raw = messages.placetel(docs.text_layer)
        assert await asyncio.to_thread(send, smtp.bound_port, fax_raw, FAX_ADDRESS) == 250
        mail_raw = mail_messages.simple(7)
        assert await asyncio.to_thread(send, smtp.bound_port, mail_raw, JOURNAL) == 250
        found = await kartei.store.read_all(0, 100, types=("FaxReceived", "EmailReceived"))
        assert [r.type_name for r in found] == ["FaxReceived", "EmailReceived"]
    finally:
        stop.set()
        await running
