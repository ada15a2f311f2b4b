"""In headless Chromium: "Bearbeiten" on a company with a switchboard and a fax, saved
unchanged and then with one field changed; only that field is recorded, and a call from
a direct dial behind the switchboard still pops up with the firm's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.contacts.service import ContactService
from hub.events.contacts import ContactChanged
from hub.store import EventStore
from tests.web.live import running
from tests.web.test_contact_edit import EXTENSION, FAX, SWITCHBOARD, company, phone
from tests.web.test_e2e import ring_line

pytestmark = pytest.mark.slow


async def test_edit_one_field_in_the_browser(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        cid = await company(store)
        await live.caught_up("identity", await store.head())
        page = await live.page()
        await page.goto(f"{live.base_url}/contacts/{cid}")
        await page.click("main >> text=Bearbeiten")
        await page.wait_for_selector("form.contact-edit")
        selected = page.locator("select[name=phone_labels] option:checked")
        assert await selected.all_text_contents() == ["Zentrale", "Fax", "Festnetz", "Festnetz"]
        await page.click("form.contact-edit button[type=submit]")
        await page.wait_for_url(re.compile(rf"/contacts/{cid}$"))
        assert len(await store.read_stream(f"contact-{cid}")) == 1
        await page.click("main >> text=Bearbeiten")
        await page.fill("input[name=customer_number]", "K-2041")
        await page.click("form.contact-edit button[type=submit]")
        await page.wait_for_url(re.compile(rf"/contacts/{cid}$"))
        await page.wait_for_selector("text=K-2041")
        stream = await store.read_stream(f"contact-{cid}")
        assert [r.event for r in stream[1:]] == [
            ContactChanged(contact_id=cid, customer_number="K-2041")
        ]
        card = await ContactService(store).load(cid)
        assert card.phones == (phone(SWITCHBOARD, "switchboard"), phone(FAX, "fax"))
        # A direct dial behind the switchboard rings: the pop names the firm.
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        caller = EXTENSION.replace(" ", "").replace("-", "")
        await live.peer.send([ring_line("RING", 7, caller, "3012345", "SIP0")])
        await page.locator(".pop .pop-name").wait_for(timeout=5000)
        assert await page.locator(".pop .pop-name").text_content() == "Dachdecker Kühn GmbH"
