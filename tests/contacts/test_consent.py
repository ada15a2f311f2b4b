"""Consent per channel: recorded as events, folded onto the card, kept through a merge,
set from the command line (both databases)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.cli import app
from hub.contacts import ContactError
from hub.events.contacts import ConsentRecorded
from tests.contacts.conftest import Directory


async def card(contacts: Directory, contact_id: str):  # type: ignore[no-untyped-def]
    await contacts.sync()
    async with contacts.store.db.read() as conn:
        return await contacts.directory.get(conn, contact_id)


async def test_consent_is_recorded_per_channel_and_shown_on_the_card(
    contacts: Directory,
) -> None:
    cid = await contacts.service.create({"given_name": "Greta", "family_name": "Sperrling"})
    await contacts.service.record_consent(
        cid, "letter", "blocked", source="Anruf   07.12., Frau Sperrling", actor="anna"
    )
    await contacts.service.record_consent(
        cid, "email", "allowed", source="Formular", given_on=date(2026, 3, 1)
    )
    shown = await card(contacts, cid)
    assert shown is not None
    letter = shown.consent_for("letter")
    assert (letter.state, letter.source, letter.by) == (
        "blocked",
        "Anruf 07.12., Frau Sperrling",
        "anna",
    )
    assert letter.given_on == date.today().isoformat()
    assert shown.consent_for("email").given_on == "2026-03-01"
    assert shown.consent_for("fax").state == "unknown"
    assert [c.channel for c in shown.blocked("email", "phone", "letter")] == ["letter"]
    # The same again appends nothing; "unknown" takes a block back.
    before = await contacts.store.head()
    await contacts.service.record_consent(
        cid, "letter", "blocked", source="Anruf 07.12., Frau Sperrling"
    )
    assert await contacts.store.head() == before
    await contacts.service.record_consent(cid, "letter", "unknown")
    assert not (await card(contacts, cid)).blocked("letter")
    # The source names people: sealed with the contact's key, not in the log in clear.
    async with contacts.store.db.read() as conn:
        raw = (await conn.execute(sa.text("SELECT data FROM events"))).scalars().all()
    assert not [d for d in raw if "Sperrling" in d]
    events = await contacts.store.read_all(0, 100, types=["ConsentRecorded"])
    assert isinstance(events[0].event, ConsentRecorded)
    assert events[0].event.source == "Anruf 07.12., Frau Sperrling"


async def test_bad_consent_is_refused_with_a_clear_error(contacts: Directory) -> None:
    cid = await contacts.service.create({"given_name": "Olaf"})
    for channel, state, message in [
        ("pigeon", "blocked", "channel 'pigeon'"),
        ("email", "maybe", "consent 'maybe'"),
    ]:
        with pytest.raises(ContactError, match=message):
            await contacts.service.record_consent(cid, channel, state)
    with pytest.raises(ContactError, match="future"):
        await contacts.service.record_consent(
            cid, "email", "allowed", given_on=date.today() + timedelta(days=1)
        )
    with pytest.raises(ContactError, match="200 characters"):
        await contacts.service.record_consent(cid, "email", "allowed", source="x" * 201)
    with pytest.raises(ContactError, match="no contact"):
        await contacts.service.record_consent("nobody", "email", "allowed")
    assert not await contacts.store.read_all(0, 100, types=["ConsentRecorded"])


async def test_a_block_survives_a_merge(contacts: Directory) -> None:
    keep = await contacts.service.create({"given_name": "Karl", "family_name": "Bleib"})
    dupe = await contacts.service.create({"given_name": "Karl", "family_name": "Bleib"})
    await contacts.service.record_consent(keep, "phone", "allowed", source="Vertrag")
    await contacts.service.record_consent(dupe, "phone", "blocked", source="Brief 01.12.")
    await contacts.service.record_consent(dupe, "fax", "allowed", source="Fax-Abruf")
    await contacts.service.merge(keep, dupe, actor="anna")
    merged = await card(contacts, keep)
    assert merged.consent_for("phone").state == "blocked"  # a block wins
    assert merged.consent_for("fax").source == "Fax-Abruf"  # unknown here: taken over


def test_consent_from_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "firma")]).exit_code == 0
    config = str(tmp_path / "firma" / "kartei.toml")

    async def create() -> str:
        from hub.bootstrap import bootstrap
        from hub.contacts import ContactService
        from hub.settings import load_settings

        kartei = bootstrap(load_settings(Path(config)), adapters=[], policies=[], projections=[])
        await kartei.store.start()
        try:
            return await ContactService(kartei.store).create({"given_name": "Hanna"})
        finally:
            await kartei.store.close()

    cid = asyncio.run(create())
    said = runner.invoke(
        app,
        ["contacts", "consent", cid, "email", "blocked", "--source", "Anruf 07.12.",
         "--on", "07.12.2025", "--config", config],
    )  # fmt: skip
    assert said.exit_code == 0, said.output
    assert "email: blocked (Anruf 07.12., 2025-12-07)" in said.output
    shown = runner.invoke(app, ["contacts", "show", cid, "--config", config])
    assert "Einwilligung email: blocked" in shown.output
    bad = runner.invoke(app, ["contacts", "consent", cid, "email", "nein", "--config", config])
    assert bad.exit_code == 1 and "expected one of unknown, allowed, blocked" in bad.output
    bad = runner.invoke(
        app, ["contacts", "consent", cid, "fax", "allowed", "--on", "gestern", "--config", config]
    )
    assert bad.exit_code == 2 and "expected a date" in bad.output


async def test_a_sender_refuses_a_blocked_channel(contacts: Directory) -> None:
    from hub.contacts.decisions import ChannelBlockedError, require_not_blocked

    cid = await contacts.service.create({"given_name": "Fritz", "emails": ("f@x.example",)})
    await contacts.service.record_consent(
        cid, "fax", "blocked", source="Brief", given_on=date(2026, 1, 5)
    )
    shown = await card(contacts, cid)
    require_not_blocked(shown, "email")  # unknown: not blocked
    with pytest.raises(ChannelBlockedError, match=r"by fax \(Brief, 2026-01-05\)"):
        require_not_blocked(shown, "fax")
