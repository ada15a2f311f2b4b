"""Edit one field of a company: only that field changes (on the card and in the log), and a
call from an extension behind its switchboard still pops the company's card."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from hub.events.contacts import ContactChanged
from hub.store import EventStore
from tests.journeys.firm import BERLIN, demo, monitor_line, running_firm

pytestmark = pytest.mark.slow

VOGEL = "c0b0b57a254cd9ed"  # Autohaus Vogel KG: switchboard 030 88747-0, fax 030 88747-99
NOTE = "Werkstatt ab 7 Uhr erreichbar, Rechnungen an die Buchhaltung."


async def test_edit_one_field_keeps_the_rest(store: EventStore, tmp_path: Path) -> None:
    assert [p.label for p in demo(VOGEL)["phones"]] == ["switchboard", "fax"]
    async with running_firm(store, tmp_path) as firm:
        page = await firm.page()
        await page.goto(f"{firm.base_url}/contacts/{VOGEL}")
        facts = page.locator("section.who dl.facts")
        before = await facts.inner_text()
        await page.click("main >> text=Bearbeiten")
        await page.fill("textarea[name=notes]", NOTE)
        await firm.shot(page, "1-edit-form")
        await page.click("main button[type=submit]")
        await page.wait_for_url(f"{firm.base_url}/contacts/{VOGEL}")
        after = await facts.inner_text()
        await firm.shot(page, "2-card-after-edit")
        old_note = demo(VOGEL)["notes"]
        assert old_note in before
        assert after == before.replace(old_note, NOTE)
        # The log records the one field that changed, nothing else.
        last = (await store.read_stream(f"contact-{VOGEL}"))[-1].event
        assert isinstance(last, ContactChanged)
        changed = {
            f.name: getattr(last, f.name)
            for f in dataclasses.fields(last)
            if f.name != "contact_id" and getattr(last, f.name) is not None
        }
        assert changed == {"notes": NOTE}
        # An extension behind the switchboard rings: still the company.
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        now = datetime.now(BERLIN)
        await firm.peer.send([monitor_line(now, "RING", 7, "0308874731", "3012345", "SIP0")])
        pop = page.locator(".pop")
        await pop.locator(".pop-name").wait_for(timeout=5000)
        assert await pop.locator(".pop-name").inner_text() == "Autohaus Vogel KG"
        await firm.shot(page, "3-pop-switchboard-extension")
