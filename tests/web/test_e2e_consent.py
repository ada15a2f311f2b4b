"""In headless Chromium: a customer says on the phone they want no more letters; staff
record it on the card (the block sits in the card's left column) and the kind-letter task
in the task list shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.tasks import TaskOpened
from hub.store import EventStore
from tests.web.live import running

pytestmark = pytest.mark.slow


async def test_record_a_letter_block_in_the_browser(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        cid = await ContactService(store).create({"given_name": "Greta", "family_name": "Ruhe"})
        await live.caught_up("contacts", await store.head())
        task = TaskOpened(
            task_id="k1", title="Freundlichen Brief schreiben", kind="kind_letter", contact_id=cid
        )
        await store.append("task-k1", 0, [NewEvent(task)])
        await live.caught_up("tasks", await store.head())
        page = await live.page()
        await page.goto(f"{live.base_url}/contacts/{cid}")
        block = page.locator(".card-who section.consent")
        assert await block.locator("[data-channel=letter]").inner_text() == "unbekannt"
        await block.locator("summary").click()
        await block.locator("select[name=channel]").select_option(label="Brief")
        await block.locator("select[name=state]").select_option(label="gesperrt")
        await block.locator("input[name=source]").fill("Anruf 07.12.")
        await block.locator("input[name=given_on]").fill("2025-12-07")
        await block.locator("button[type=submit]").click()
        await page.wait_for_url(re.compile(rf"/contacts/{cid}$"))
        said = page.locator(".card-who section.consent [data-channel=letter]")
        await said.locator("text=gesperrt").wait_for()
        assert "Anruf 07.12., 07.12.2025" in (await said.text_content() or "")
        await page.goto(f"{live.base_url}/tasks?scope=team")
        row = page.locator("tr.task", has_text="Freundlichen Brief schreiben")
        assert "Keine Kontaktaufnahme per: Brief" in (await row.text_content() or "")
