"""A call: a landline caller on the FRITZ!Box and a mobile caller through sipgate.io; each
card pops before anyone picks up, the call is answered, the outcome noted in the pop, and
a follow-up task with a due date lands in the task list."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page

from hub.store import EventStore
from tests.journeys.firm import BERLIN, Firm, monitor_line, running_firm

pytestmark = pytest.mark.slow

JUERGEN = "a1331bd91a02e9d3"  # Jürgen Werner, Autohaus Vogel KG, 030 88747-12
THOMAS = "f7f0c6f69c46fcbf"  # Thomas Yılmaz, private customer, mobile 0151 28275367
NO_TIME = re.compile(r"\d{1,2}:\d{2}")


async def note_outcome(page: Page, name: str, text: str) -> None:
    """Types the outcome into the ended call's pop and saves it."""
    pop = page.locator(".pop.ended", has_text=name)
    await pop.locator(".pop-note").wait_for(timeout=5000)
    await pop.locator(".pop-note").fill(text)
    await pop.locator(".pop-save").click()
    await pop.wait_for(state="detached", timeout=5000)


async def landline_call(firm: Firm, page: Page) -> None:
    now = datetime.now(BERLIN)
    await firm.peer.send([monitor_line(now, "RING", 4, "0308874712", "3012345", "SIP0")])
    pop = page.locator(".pop", has_text="Jürgen Werner")
    await pop.wait_for(timeout=5000)
    assert await pop.evaluate("p => p.classList.contains('ringing')")  # before pickup
    assert await pop.locator(".pop-company").inner_text() == "Autohaus Vogel KG"
    await firm.shot(page, "1-pop-landline-ringing")
    await firm.peer.send([monitor_line(now, "CONNECT", 4, "11", "0308874712")])
    await page.locator(".pop.answered", has_text="Jürgen Werner").wait_for(timeout=5000)
    await firm.peer.send([monitor_line(now + timedelta(minutes=3), "DISCONNECT", 4, "172")])
    await note_outcome(page, "Jürgen Werner", "Bremsen am Freitag, Leihwagen zugesagt")


async def mobile_call(firm: Firm, page: Page) -> None:
    call = {"callId": "A1B2C3D4E5", "from_": "4915128275367", "to": "4930123456", "direction": "in"}
    await firm.sipgate(event="newCall", user=["Anna"], **call)
    pop = page.locator(".pop", has_text="Thomas Yılmaz")
    await pop.wait_for(timeout=5000)
    assert await pop.evaluate("p => p.classList.contains('ringing')")
    assert await pop.locator(".pop-create").count() == 0  # known: nothing to create
    await firm.shot(page, "2-pop-mobile-ringing")
    await firm.sipgate(event="answer", user="Anna", answeringNumber="4930123456", **call)
    await page.locator(".pop.answered", has_text="Thomas Yılmaz").wait_for(timeout=5000)
    await firm.sipgate(event="hangup", cause="normalClearing", **call)
    await note_outcome(page, "Thomas Yılmaz", "Angebot für Winterreifen gewünscht")


async def test_calls_pop_answer_note_and_follow_up(store: EventStore, tmp_path: Path) -> None:
    due = date.today() + timedelta(days=3)
    async with running_firm(store, tmp_path) as firm:
        page = await firm.page()
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        await landline_call(firm, page)
        await mobile_call(firm, page)
        # The outcome is on the card; a follow-up task with a due date from there.
        await firm.shown(page, f"/contacts/{THOMAS}", "text=Angebot für Winterreifen gewünscht")
        calls = page.locator("li.kind-call")
        assert "angenommen" in (await calls.first.inner_text()).lower()
        await page.fill(".task-form input[name=title]", "Winterreifen-Angebot schicken")
        await page.fill(".task-form input[name=due]", due.isoformat())
        await page.click(".task-form button[type=submit]")
        await page.locator("ul.tasks li", has_text="Winterreifen-Angebot schicken").wait_for()
        await firm.shot(page, "3-card-note-and-task")
        await firm.shown(page, f"/contacts/{JUERGEN}", "text=Leihwagen zugesagt")
        # The task list shows it, with its day and the customer.
        await page.click("nav >> text=Aufgaben")
        await page.wait_for_url(f"{firm.base_url}/tasks")
        row = await firm.shown(page, "/tasks", "tr.task:has-text('Winterreifen-Angebot schicken')")
        assert "Thomas Yılmaz" in await row.inner_text()
        when = await row.locator("td").nth(1).inner_text()
        assert due.strftime("%d.%m.%Y") in when and not NO_TIME.search(when), when
        await firm.shot(page, "4-task-list")
