"""End to end in a real headless Chromium: log in, create a contact, see a captured email on
the card, complete a task, and the screen pop from a RING line on the FRITZ!Box socket.

The FRITZ!Box is the protocol peer from tests/telephony (a TCP server speaking the call
monitor's line format on the real socket the driver connects to). The README's screenshots
come from the demo firm (scripts/screenshots.py), not from this test's firm.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from hub.archive import Archive
from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.contacts import Phone
from hub.events.fax import FaxReceived
from hub.events.mail import Attachment, EmailReceived, EmailSent
from hub.events.notes import NoteAdded
from hub.store import EventStore
from tests.web.events import T0, email
from tests.web.live import Live, running
from tests.web.test_xss import CORPUS, WATCH

pytestmark = pytest.mark.slow


async def reply_and_fax(live: Live, stream: str) -> int:
    """The firm answers the email (with an attachment) and the customer faxes an order."""
    store = live.kartei.store
    archive = Archive(live.kartei.settings.data_dir / "archive")
    first = (await store.read_stream(stream))[0].event
    assert isinstance(first, EmailReceived) and first.message_id
    reply = EmailSent(
        message_id="<antwort-4711@firma.example>",
        sender="info@firma.example",
        to=("erika@kunde.example",),
        subject="Re: Reklamation Lieferung 4711",
        text="Ersatz ist unterwegs, der Lieferschein liegt bei.",
        in_reply_to=first.message_id,
        references=(first.message_id,),
        attachments=(
            Attachment(
                name="Lieferschein 4711.pdf",
                content_type="application/pdf",
                size=48_213,
                ref=archive.put(b"%PDF-1.4 Lieferschein"),
            ),
        ),
        date=T0 + timedelta(hours=1),
    )
    await store.append("email-antwort-4711", 0, [NewEvent(reply)])
    page = Image.new("L", (300, 420), 255)
    draw = ImageDraw.Draw(page)
    draw.text((20, 20), "BESTELLUNG", fill=0)
    for line in range(12):
        draw.line((20, 60 + line * 22, 280 - (line % 3) * 40, 60 + line * 22), fill=90)
    png = io.BytesIO()
    page.save(png, "PNG")
    fax = FaxReceived(
        sender="+4930123456",
        sender_raw="030 123456",
        pages=2,
        received_at=T0 + timedelta(hours=2),
        subject="Fax von 030 123456",
        document_name="Bestellung.pdf",
        document_type="application/pdf",
        document_size=61_440,
        document_ref=archive.put(b"%PDF-1.4 Bestellung"),
        preview_ref=archive.put(png.getvalue()),
        text="Bestellung: 2 Ersatzteile, Lieferung bis Freitag",
        text_source="ocr",
        ocr_status="done",
    )
    done = await store.append(f"fax-{'4711' * 8}", 0, [NewEvent(fax)])
    return done.positions[-1]


def ring_line(kind: str, cid: int, *fields: str) -> str:
    # The box writes its own wall clock, the firm's (the default time zone), not this
    # machine's: in UTC, a ring between 23:00 and midnight was yesterday's on /calls.
    stamp = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%y %H:%M:%S")
    return ";".join([stamp, kind, str(cid), *fields]) + ";"


async def test_card_tasks_and_screen_pop(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        page = await live.page()
        # A new contact through the form.
        await page.click("text=Neuer Kontakt")
        await page.fill("input[name=given_name]", "Erika")
        await page.fill("input[name=family_name]", "Muster")
        await page.fill("input[name=company]", "Muster GmbH")
        await page.fill("input[name=customer_number]", "K-1001")
        await page.fill("input[name=emails]", "erika@kunde.example")
        await page.fill("input[name=phones]", "030 123456")
        await page.click("main button[type=submit]")
        await page.wait_for_url(re.compile(r"/contacts/[0-9a-f]+$"))
        card_url = page.url
        # A captured email shows on the card.
        stream, position = await email(
            live.kartei.store,
            "erika@kunde.example",
            "Reklamation Lieferung 4711",
            text="Die Lieferung kam beschädigt an.",
        )
        await live.caught_up("timeline", position)
        await page.goto(card_url)
        await page.wait_for_selector("text=Reklamation Lieferung 4711")
        # The firm's reply joins the thread; a fax from the customer's number shows page 1.
        position = await reply_and_fax(live, stream)
        await live.caught_up("timeline", position)
        await page.goto(card_url)
        preview = page.locator(".kind-fax img.fax-preview")
        # decode() settles once the image loaded (through the logged-in route) or failed.
        assert await preview.evaluate("img => img.decode().then(() => img.naturalWidth)") == 300
        replies = page.locator(".thread .subject")
        assert await replies.all_text_contents() == ["Reklamation Lieferung 4711"]
        await page.wait_for_selector(".attachment:has-text('Lieferschein 4711.pdf')")
        # A task from the card, completed in the queue.
        await page.fill("input[name=title]", "Ersatz schicken")
        await page.click(".task-form button")
        await page.wait_for_selector("text=Ersatz schicken")
        await page.goto(f"{live.base_url}/tasks")
        await page.click("tr.task:has-text('Ersatz schicken') button.complete")
        await page.wait_for_selector("text=Keine offenen Aufgaben.")
        # The screen pop: the pop slides in on whatever page is open.
        await page.goto(f"{live.base_url}/")
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        await live.peer.send([ring_line("RING", 0, "030123456", "3012345", "SIP0")])
        pop = page.locator(".pop")
        await pop.locator(".pop-name").wait_for(timeout=5000)
        assert await pop.locator(".pop-name").text_content() == "Erika Muster"
        assert "K-1001" in (await pop.text_content() or "")
        assert await pop.locator(".pop-number").text_content() == "030 123456"  # as written
        assert "Reklamation Lieferung 4711" in (
            await pop.locator(".pop-recent").text_content() or ""
        )
        await live.peer.send([ring_line("CONNECT", 0, "4", "030123456")])
        await page.locator(".pop.answered").wait_for(timeout=5000)
        await live.peer.send([ring_line("DISCONNECT", 0, "42")])
        await page.locator(".pop.ended .pop-note").wait_for(timeout=5000)
        assert await pop.locator(".pop-state").text_content() == "Anruf beendet · angenommen"
        await page.fill(".pop-note", "Ersatz zugesagt")
        await page.check(".pop-follow")
        await page.click(".pop-save")
        await page.locator(".pop").wait_for(state="detached", timeout=5000)
        notes = [r.event for r in await live.kartei.store.read_all(0, 1000, types=["NoteAdded"])]
        assert [n.text for n in notes if isinstance(n, NoteAdded)] == ["Ersatz zugesagt"]
        tasks = await live.kartei.store.read_all(0, 1000, types=["TaskOpened"])
        assert [r.event.title for r in tasks][-1] == "Ersatz zugesagt"  # type: ignore[attr-defined]


async def test_unknown_caller_and_reconnect(store: EventStore, tmp_path: Path) -> None:
    """An unknown number offers "create contact"; a reloaded page resumes without doubles."""
    async with running(store, tmp_path) as live:
        page = await live.page()
        await page.wait_for_selector("body[data-pop=connected]", state="attached")
        await live.peer.send([ring_line("RING", 1, "01761234567", "3012345", "SIP0")])
        await page.locator(".pop .pop-create").wait_for(timeout=5000)
        href = await page.locator(".pop .pop-create").get_attribute("href")
        assert href == "/contacts/new?phone=%2B491761234567"
        assert await page.locator(".pop").count() == 1


INERT = """() => {
  const bad = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) bad.push(el.tagName + "[" + attr.name + "]");
      if (/^\\s*javascript:/i.test(attr.value)) bad.push(el.tagName + "[" + attr.name + "=js]");
    }
  }
  const count = (selector) => document.querySelectorAll(selector).length;
  if (count("script:not([src='/static/kartei.js'])")) bad.push("script");
  // Kartei's own: sprite icons (svg.icon), the dashboard chart, folded forms (details.more).
  const foreign = "svg:not(.icon):not(figure.chart svg), math, iframe:not(.mail)";
  if (count(foreign)) bad.push("foreign element");
  for (const use of document.querySelectorAll("svg.icon use")) {
    if (!use.getAttribute("href").startsWith("/static/vendor/lucide/icons.svg#")) bad.push("use");
  }
  if (count("img") !== count("img.fax-preview")) bad.push("img");
  if (count("details") !== count("details.fax-text, details.more")) bad.push("details");
  return bad;
}"""


async def test_hostile_fax_and_thread_render_inert(store: EventStore, tmp_path: Path) -> None:
    """The XSS corpus in a fax's fields and in a thread's attachment names runs nothing."""
    joined = " ".join(CORPUS)
    async with running(store, tmp_path) as live:
        archive = Archive(live.kartei.settings.data_dir / "archive")
        cid = await ContactService(store).create(
            {
                "family_name": "Boese",
                "phones": (Phone(number="+4930999888"),),
                "emails": ("boese@angreifer.example",),
            }
        )
        fax = FaxReceived(
            sender="+4930999888",
            sender_raw=CORPUS[1],
            pages=1,
            subject=CORPUS[0],
            document_name=CORPUS[2],
            document_type="application/pdf",
            document_size=10,
            document_ref=archive.put(b"%PDF-1.4"),
            preview_ref=archive.put(CORPUS[3].encode()),  # not a PNG: the route refuses it
            text=joined,
            ocr_status="done",
        )
        await store.append(f"fax-{'6' * 32}", 0, [NewEvent(fax)])
        first = EmailReceived(
            message_id="<boese-1@angreifer.example>",
            sender="boese@angreifer.example",
            subject=CORPUS[4],
            text=joined,
            date=T0,
        )
        reply = EmailSent(
            message_id="<antwort@firma.example>",
            sender="info@firma.example",
            to=("boese@angreifer.example",),
            subject="Re: " + CORPUS[5],
            in_reply_to=first.message_id,
            attachments=tuple(
                Attachment(name=c, content_type="text/html", size=3, ref=archive.put(c.encode()))
                for c in CORPUS[6:12]
            ),
            date=T0 + timedelta(hours=1),
        )
        await store.append("email-boese-1", 0, [NewEvent(first)])
        done = await store.append("email-boese-2", 0, [NewEvent(reply)])
        await live.caught_up("timeline", done.positions[-1])
        page = await live.page()
        await page.context.add_init_script(WATCH)
        for url in (
            f"/contacts/{cid}",
            f"/contacts/{cid}?kind=fax",
            "/messages/email-boese-2",
            "/search?q=xss",
        ):
            await page.goto(live.base_url + url)
            await page.wait_for_load_state("load")
            assert await page.evaluate("window.__xss") == [], url
            assert await page.evaluate(INERT) == [], url
        await page.goto(f"{live.base_url}/contacts/{cid}")
        await page.click("details.fax-text summary")  # the OCR text unfolds as text
        assert "alert('xss-1')" in (await page.locator("details.fax-text pre").text_content() or "")
        assert await page.evaluate("window.__xss") == []
        assert await page.locator(".thread .subject").all_text_contents() == [CORPUS[4]]
