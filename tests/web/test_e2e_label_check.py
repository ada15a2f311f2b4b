"""In a real headless Chromium (issue 21): the owner opens a customer's card, sees how the
classifier read each message, says with one click that a "complaint" was really neutral,
lands back on the card with the label changed, and the "Bitte prüfen" queue no longer
offers that message; confirming another one there ("Stimmt") takes it off the queue too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.store import EventStore
from tests.web.live import running
from tests.web.test_label_check import classified
from tests.web.test_pages import contact

pytestmark = pytest.mark.slow


async def test_one_click_on_the_card_and_the_queue(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        cid = await contact(store)
        coin = {"complaint": 0.45, "neutral": 0.4, "praise": 0.15}
        unsure = {"praise": 0.5, "neutral": 0.35, "complaint": 0.15}
        wrong = await classified(store, cid, "Rückfrage zur Rechnung", coin)
        other = await classified(store, cid, "Na, das war ja was", unsure, minutes_ago=120)
        for name in ("timeline", "review", "risk"):
            await live.caught_up(name, await store.head())
        page = await live.page()
        await page.goto(f"{live.base_url}/contacts/{cid}")
        entry = page.locator("li.entry", has_text="Rückfrage zur Rechnung")
        assert "Eingeordnet als Beschwerde" in await entry.inner_text()
        await entry.get_by_role("button", name="Neutral").click()
        await page.wait_for_url(re.compile(rf"/contacts/{cid}$"))
        entry = page.locator("li.entry", has_text="Rückfrage zur Rechnung")
        assert "Eingeordnet als Neutral (geprüft)" in await entry.inner_text()

        await page.goto(f"{live.base_url}/classifications")
        queue = page.locator("ul.queue li.to-check")
        assert await queue.count() == 1
        assert await queue.first.get_attribute("data-check") == str(other)
        await queue.first.get_by_role("button", name="Stimmt").click()
        await page.wait_for_url(re.compile(r"/classifications$"))
        assert await page.locator("ul.queue li.to-check").count() == 0
        assert "Nichts zu prüfen." in await page.locator("section.to-check").inner_text()
        assert wrong != other
