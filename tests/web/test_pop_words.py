"""The pop in a receptionist's words: "klingelt", "angenommen von Bernd", "verpasst";
Enter opens the card, Esc closes the pop; an ended pop fades after [web]
pop_fade_seconds instead of stacking; "Kontakt anlegen" pre-fills the number as written
(issue 14). Real Chromium, calls from the FRITZ!Box call monitor peer."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.contacts.service import ContactService
from hub.events.contacts import Phone
from hub.store import EventStore
from tests.web.live import running
from tests.web.test_e2e import ring_line


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what the pop says does not depend on the database."""
    return f"sqlite:///{tmp_path}/kartei.db"


async def test_pop_says_the_call_state_and_goes_by_itself(
    store: EventStore, tmp_path: Path
) -> None:
    erika = await ContactService(store).create(
        {"given_name": "Erika", "family_name": "Muster", "phones": (Phone(number="+4930123456"),)}
    )
    async with running(store, tmp_path) as live:
        assert live.kartei.web is not None
        app = live.kartei.web.app
        await app.state.accounts.add("bernd", "geheim-geheim-1", display_name="Bernd")
        await app.state.accounts.update("bernd", lines="4")  # his extension
        page = await live.page()
        connected = "body[data-pop=connected]"
        # An unknown caller gives up: "verpasst"; "Kontakt anlegen" has the number as written.
        app.state.pop_fade_seconds = 0  # stays until closed
        await page.goto(f"{live.base_url}/")
        await page.wait_for_selector(connected, state="attached")
        await live.peer.send([ring_line("RING", 1, "040999999", "3012345", "SIP0")])
        pop = page.locator(".pop")
        await pop.locator(".pop-state", has_text="klingelt").wait_for(timeout=5000)
        await live.peer.send([ring_line("DISCONNECT", 1, "0")])
        await page.locator(".pop.missed .pop-state", has_text="verpasst").wait_for(timeout=5000)
        await page.keyboard.press("Escape")  # closes it
        await pop.wait_for(state="detached", timeout=2000)
        await live.peer.send([ring_line("RING", 2, "040999999", "3012345", "SIP0")])
        await pop.locator(".pop-create").wait_for(timeout=5000)
        await pop.locator(".pop-create").click()
        await page.wait_for_url(f"{live.base_url}/contacts/new?phone=%2B4940999999")
        assert await page.locator("input[name=phones]").first.input_value() == "040 999999"
        await live.peer.send([ring_line("DISCONNECT", 2, "0")])

        # Erika rings: Enter opens her card; Bernd answers; the ended pop fades.
        app.state.pop_fade_seconds = 1
        await page.goto(f"{live.base_url}/tasks")
        await page.wait_for_selector(connected, state="attached")
        await live.peer.send([ring_line("RING", 3, "030123456", "3012345", "SIP0")])
        await pop.locator(".pop-name", has_text="Erika Muster").wait_for(timeout=5000)
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"{live.base_url}/contacts/{erika}")
        await page.wait_for_selector(connected, state="attached")
        await live.peer.send([ring_line("CONNECT", 3, "4", "030123456")])
        # The card page missed the ring; the next pop of this call is the answer's. A new
        # call shows the whole sequence on the card's page:
        await live.peer.send([ring_line("DISCONNECT", 3, "30")])
        await live.peer.send([ring_line("RING", 4, "030123456", "3012345", "SIP0")])
        await pop.locator(".pop-name", has_text="Erika Muster").wait_for(timeout=5000)
        await live.peer.send([ring_line("CONNECT", 4, "4", "030123456")])
        await pop.locator(".pop-state", has_text="angenommen von Bernd").wait_for(timeout=5000)
        await live.peer.send([ring_line("DISCONNECT", 4, "42")])
        await page.locator(".pop.ended").wait_for(timeout=5000)
        await pop.wait_for(state="detached", timeout=5000)  # faded after a second
