"""A Kartei with one customer to erase and one to keep, fed through the real intake paths:
mail through the capture pipeline, a fax through the SMTP fax intake (both databases)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.fax.intake import FaxIntake, FaxRules, FaxSmtpIntake
from adapters.mail.pipeline import MailIntake, store_prepared
from adapters.mail.smtp import IntakeRules
from hub.archive import Archive
from hub.bootstrap import Kartei, bootstrap
from hub.capture import Capture
from hub.cli import app
from hub.contacts import ContactService
from hub.events.contacts import Phone
from hub.health import ComponentHealth
from hub.settings import settings_from_dict
from hub.store import EventStore
from policies.alerts import Deliverer
from tests.fax import documents
from tests.fax.conftest import FAX_ADDRESS, PROFILES, deliver
from tests.fax.messages import fax_email
from tests.mail import messages
from tests.mail.conftest import RULES
from tests.web.conftest import admin, web  # noqa: F401 (fixtures)

# The person to erase: strings found nowhere afterwards.
GIVEN, FAMILY = "Quirinella", "Zwetschkenhain"
EMAIL = "quirinella.zwetschkenhain@obstgut-beispiel.example"
E164, NATIONAL = "+494072345678", "040 72345678"
MAIL_SENTENCE = "Die lila Giraffe tanzt um Mitternacht am Fischmarkt"
FAX_SENTENCE = "Der gelbe Leuchtturm singt leise Walzer"
NEEDLES = (GIVEN, FAMILY, EMAIL, E164, E164[1:], NATIONAL, NATIONAL.replace(" ", ""),
           MAIL_SENTENCE, FAX_SENTENCE, "Giraffe tanzt", "Leuchtturm singt")  # fmt: skip

# The customer whose history must stay as it was.
OTHER_EMAIL, OTHER_SENTENCE = "berta.bleibt@kunde.example", "Bitte liefern Sie drei Paletten"


@dataclass
class Firm:
    kartei: Kartei
    data_dir: Path
    config: Path
    log_file: Path
    person: str
    other: str

    @property
    def archive(self) -> Archive:
        return Archive(self.data_dir / "archive")

    def cli(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "--config", str(self.config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output


# Message-IDs that name the person (some mail programs build them from the address).
MAIL_ID = f"<{GIVEN}.{FAMILY}.4711@obstgut-beispiel.example>"
FAX_ID = f"<fax.{FAMILY}.0815@sipgate.de>"


def sipgate_fax(number: str, document: bytes) -> bytes:
    return fax_email(
        "sipgate <noreply@sipgate.de>",
        f"Fax von {number}",
        f"Hallo,\nSie haben ein Fax von {number} an Ihre Faxnummer +49 30 555099 "
        "erhalten.\nSeiten: 1\nIhr sipgate Team",
        document,
        f"Vertrag {FAMILY} 2026.pdf",  # the sender's file name names the person
        message_id=FAX_ID,
    )


async def _fax(kartei: Kartei, archive: Archive, raw: bytes) -> None:
    intake = FaxIntake(archive, FaxRules(PROFILES, max_attachment_bytes=1_000_000))
    smtp_rules = IntakeRules.of([FAX_ADDRESS], ["127.0.0.0/8"], 4_000_000)
    adapter = FaxSmtpIntake("127.0.0.1", 0, smtp_rules, intake)  # type: ignore[arg-type]
    capture = Capture(kartei.store, adapter.name, ComponentHealth("adapter:fax-smtp"))
    task = asyncio.create_task(adapter.run(capture))
    try:
        async with asyncio.timeout(10):
            await adapter.ready.wait()
        assert adapter.bound_port is not None
        assert await deliver(adapter.bound_port, raw) == 250
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@dataclass
class _Staff:
    name: str
    email: str


class _StaffMailbox:
    """Where staff alerts go (the channel's transport is tested in tests/classifier)."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def address(self, staff: _Staff) -> str | None:
        return staff.email

    async def send(self, address: str, subject: str, text: str) -> None:
        self.sent.append((address, subject, text))


async def _staff_alert(store: EventStore, contact_id: str) -> None:
    """An alert about the person to a staff member, recorded as AlertSent (its subject
    names the customer, as the churn alert's does)."""
    mailbox = _StaffMailbox()
    deliverer = Deliverer(store, [mailbox], ComponentHealth("policy:alerts"))
    staff = [_Staff("anna", "anna@firma.example")]
    subject = f"Kunde gefährdet: {GIVEN} {FAMILY}"
    sent = await deliverer.deliver("99", staff, subject, subject, contact_id=contact_id)
    assert sent == 1 and mailbox.sent[0][1] == subject


@pytest.fixture
async def firm(database_url: str, tmp_path: Path) -> AsyncIterator[Firm]:
    data_dir = tmp_path / "data"
    log_file = tmp_path / "kartei.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "{data_dir}"\n[database]\nurl = "{database_url}"\n')
    settings = settings_from_dict(
        {"kartei": {"data_dir": str(data_dir)}, "database": {"url": database_url}}
    )
    kartei = bootstrap(settings, adapters=[], policies=[])
    await kartei.store.start()
    try:
        service = ContactService(kartei.store)
        person = await service.create(
            {"given_name": GIVEN, "family_name": FAMILY, "emails": (EMAIL,),
             "phones": (Phone(number=E164, label="fax", raw=NATIONAL),)}
        )  # fmt: skip
        other = await service.create(
            {"given_name": "Berta", "family_name": "Bleibt", "emails": (OTHER_EMAIL,)}
        )
        archive = Archive(data_dir / "archive")
        intake = MailIntake(archive, RULES, workers=1)
        try:
            raws = [
                (messages.simple(1, sender=f"{GIVEN} {FAMILY} <{EMAIL}>",
                                 subject=f"Anfrage von {FAMILY}", message_id=MAIL_ID,
                                 body=f"Guten Tag,\n{MAIL_SENTENCE}.\n{GIVEN} {FAMILY}\n"
                                      f"Tel. {NATIONAL}\n"), "smtp"),
                (messages.simple(2, sender=f"Berta Bleibt <{OTHER_EMAIL}>",
                                 body=f"Guten Tag,\n{OTHER_SENTENCE}.\n"), "smtp"),
            ]  # fmt: skip
            items = await intake.prepare_many(raws)
            async with kartei.store.transaction() as tx:
                assert await store_prepared(tx, items, "test") == 2
        finally:
            intake.close()
        await _fax(kartei, archive, sipgate_fax(NATIONAL, documents.text_pdf([[FAX_SENTENCE]])))
        await _staff_alert(kartei.store, person)
        firm = Firm(kartei, data_dir, config, log_file, person, other)
        # Staff correct the classification of the person's mail (training data: it keeps
        # the words and names the person's address as their subject).
        mails = await kartei.store.read_all(0, 100, types=("EmailReceived",))
        mine = [r for r in mails if getattr(r.event, "sender", "") == EMAIL]
        assert len(mine) == 1
        code, output = await asyncio.to_thread(
            firm.cli, "classify", "correct", str(mine[0].position), "complaint", "--by", "anna"
        )
        assert code == 0, output
        for runner in kartei.projections.values():
            await runner.prepare()
            await runner.catch_up()
        yield firm
    finally:
        await kartei.store.close()
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
