"""End to end in headless Chromium: log in, import contacts from a file (preview, then
import), an imported customer's call pops up by name, and its missed call is marked seen
on the call list."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.store import EventStore
from tests.web.live import running
from tests.web.test_e2e import ring_line
from tests.web.test_import import CSV

pytestmark = pytest.mark.slow


async def test_import_in_the_browser_then_pop_and_mark_seen(
    store: EventStore, tmp_path: Path
) -> None:
    export = tmp_path / "Kontakte.csv"
    export.write_bytes(CSV)
    async with running(store, tmp_path) as live:
        page = await live.page()
        await page.click("nav >> text=Kontakte importieren")
        await page.set_input_files("input[type=file]", str(export))
        await page.check("input[name=preview]")
        await page.click("form.import button[type=submit]")
        report = page.locator(".import-report[data-dry-run=yes]")
        await report.wait_for(timeout=10000)
        assert await page.locator(".n-create").text_content() == "2"
        assert await page.locator("tr.row-error td").first.text_content() == "3"
        await page.set_input_files("input[type=file]", str(export))
        await page.click("form.import button[type=submit]")
        await page.locator(".import-report[data-dry-run=no]").wait_for(timeout=10000)
        assert await page.locator(".n-create").text_content() == "2"
        await page.click("text=Hans Kühn")
        await page.wait_for_selector("h1:has-text('Hans Kühn')")
        # The imported number rings: the pop names the customer; nobody answers.
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        await live.peer.send([ring_line("RING", 3, "01712345678", "3012345", "SIP0")])
        await page.locator(".pop .pop-name").wait_for(timeout=5000)
        assert await page.locator(".pop .pop-name").text_content() == "Hans Kühn"
        await live.peer.send([ring_line("DISCONNECT", 3, "0")])
        await page.locator(".pop.ended").wait_for(timeout=5000)
        await page.click("nav >> text=Anrufe")
        missed = page.locator("tr.call.missed input[name=call]")
        await missed.wait_for(timeout=5000)
        await missed.check()
        await page.click("button.mark-seen")
        await page.locator("tr.call.missed.seen").wait_for(timeout=5000)
        assert "gesehen von anna" in (await page.locator("tr.call.seen").text_content() or "")
