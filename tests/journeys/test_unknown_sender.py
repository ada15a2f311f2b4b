"""An unknown sender writes twice; staff find them under "Unbekannte Absender", create the
contact from there, and both emails are on the new card. A stale link on the way shows a
German page, not JSON."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.store import EventStore
from tests.journeys.firm import email, running_firm

pytestmark = pytest.mark.slow

SENDER = "Marion Jacobi <m.jacobi@jacobi-events.de>"
ADDRESS = "m.jacobi@jacobi-events.de"


async def test_unknown_sender_becomes_a_contact(store: EventStore, tmp_path: Path) -> None:
    async with running_firm(store, tmp_path) as firm:
        await firm.deliver(
            email(SENDER, "Anfrage Firmenfeier", "Guten Tag,\nwir planen eine Feier für 80 "
                  "Personen am 16. Januar. Können Sie uns ein Angebot machen?\nMarion Jacobi")
        )  # fmt: skip
        await firm.deliver(
            email(SENDER, "Nachtrag: Getränke", "Die Getränke bitte mit anbieten.\nM. Jacobi")
        )
        page = await firm.page()
        await page.click("nav >> text=Unbekannte Absender")
        row = await firm.shown(
            page, "/senders/unknown", f"table.unknown-email tr:has-text('{ADDRESS}')"
        )
        assert "Marion Jacobi" in await row.inner_text()
        assert await row.locator("td").nth(1).inner_text() == "2"
        await firm.shot(page, "1-unknown-senders")
        await row.locator("a.create").click()
        await page.wait_for_url(re.compile(r"/contacts/new\?email="))
        assert await page.input_value("input[name=emails]") == ADDRESS
        await page.fill("input[name=given_name]", "Marion")
        await page.fill("input[name=family_name]", "Jacobi")
        await page.fill("input[name=company]", "Jacobi Events")
        await page.click("main button[type=submit]")
        await page.wait_for_url(re.compile(r"/contacts/[0-9a-f]+$"))
        card = page.url.removeprefix(firm.base_url)
        assert await page.locator("h1").inner_text() == "Marion Jacobi"
        # Their history attaches: both emails are on the new card.
        await firm.shown(page, card, "li.kind-email:has-text('Nachtrag: Getränke')")
        subjects = await page.locator("li.kind-email .subject").all_inner_texts()
        assert sorted(subjects) == ["Anfrage Firmenfeier", "Nachtrag: Getränke"]
        await firm.shot(page, "2-new-card-with-history")
        await page.goto(f"{firm.base_url}/senders/unknown")
        assert ADDRESS not in await page.locator("main").inner_text()
        # A bookmark from an older version: a German page with the way back.
        answer = await page.goto(f"{firm.base_url}/absender/unbekannt")
        assert answer is not None and answer.status == 404
        assert await page.locator("main h1").inner_text() == "Seite nicht gefunden"
        await page.click("main >> text=Übersicht")
        await page.wait_for_url(f"{firm.base_url}/")
