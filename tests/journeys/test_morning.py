"""Morning: yesterday evening two customers rang after hours; Anna logs in, sees who, opens
the card from a missed call, finds the call-back task and marks it done."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hub.store import EventStore
from tests.journeys.firm import BERLIN, monitor_line, running_firm

pytestmark = pytest.mark.slow

KATRIN = "3f33c351501102ab"  # Katrin Klein, Autohaus Vogel KG, 030 88747-11
LUKAS = "4645231f22060750"  # Lukas Groß, private customer, mobile 0170 8603172


async def test_morning_missed_calls_to_call_back_done(store: EventStore, tmp_path: Path) -> None:
    evening = (datetime.now(BERLIN) - timedelta(days=1)).replace(hour=18, minute=12, second=5)
    async with running_firm(store, tmp_path) as firm:
        # Yesterday after hours: nobody answered (the box reports RING, then DISCONNECT).
        later = evening + timedelta(minutes=9)
        await firm.peer.send(
            [
                monitor_line(evening, "RING", 0, "0308874711", "3012345", "SIP0"),
                monitor_line(evening + timedelta(seconds=25), "DISCONNECT", 0, "0"),
                monitor_line(later, "RING", 1, "01708603172", "3012345", "SIP1"),
                monitor_line(later + timedelta(seconds=31), "DISCONNECT", 1, "0"),
            ]
        )
        page = await firm.page("anna")  # through the login form
        assert await page.title() == "Übersicht · Kartei"
        # The dashboard names yesterday's missed callers and links their cards.
        missed = ":is(li, tr):has-text('verpasst')"
        katrin = await firm.shown(page, "/", f"main {missed} a[href='/contacts/{KATRIN}']")
        await firm.shown(page, "/", f"main {missed} a[href='/contacts/{LUKAS}']")
        assert await katrin.inner_text() == "Katrin Klein"
        assert "Lukas Groß" in await page.locator("main").inner_text()
        await firm.shot(page, "1-dashboard-missed-calls")
        await katrin.click()
        await page.wait_for_url(f"{firm.base_url}/contacts/{KATRIN}")
        assert await page.locator("h1").inner_text() == "Katrin Klein"
        # The call-back task the missed call opened is on the card.
        callback = await firm.shown(page, f"/contacts/{KATRIN}", "ul.tasks li:has-text('Rückruf')")
        assert await callback.count() == 1
        call = page.locator("li.kind-call", has_text="verpasst")
        assert evening.strftime("%H:%M") in await call.inner_text()  # the box's time
        await firm.shot(page, "2-card-callback-task")
        # Done from the team's task list.
        await page.click("nav >> text=Aufgaben")
        await page.click("nav.filters >> text=Team-Aufgaben")
        row = page.locator("tr.task", has_text="Katrin Klein").filter(has_text="Rückruf")
        assert "Verpasster Anruf" in await row.inner_text()
        await firm.shot(page, "3-team-tasks")
        await row.locator("button.complete").click()
        await row.wait_for(state="detached")
        await page.wait_for_url(f"{firm.base_url}/tasks?scope=team")  # still the team's list
        assert await page.locator("tr.task", has_text="Lukas Groß").count() == 1
        await page.goto(f"{firm.base_url}/contacts/{KATRIN}")
        assert await page.locator("ul.tasks li", has_text="Rückruf").count() == 0
        done = page.locator("li.kind-task", has_text="Rückruf")
        assert re.search(r"erledigt", await done.inner_text(), re.I)
        await firm.shot(page, "4-card-callback-done")
