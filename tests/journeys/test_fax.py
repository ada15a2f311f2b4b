"""A fax arrives: the FRITZ!Box mails it to the fax address; it shows on the sender's card
with a preview of page 1 and its recognized text, and search finds a word of it."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from hub.store import EventStore
from tests.fax.documents import scanned_pdf
from tests.journeys.firm import FAX_ADDRESS, email, running_firm

pytestmark = pytest.mark.slow

HOFMANN = "f08604b95ab2bf87"  # Bäckerei Hofmann OHG: fax 030 685820-99
ORDER = [
    "Bestellung für Freitag, den 11. Dezember",
    "40 Weihnachtsstollen, 12 Bleche Butterkuchen",
    "Lieferung bitte bis 6 Uhr früh.",
    "Bäckerei Hofmann OHG",
]


def fritzbox_fax(document: bytes) -> EmailMessage:
    """The mail a FRITZ!Box sends for a received fax (fax-to-email, PDF attached)."""
    message = email(
        "FRITZ!Box <fritzbox@firma.example>",
        "Fax von 03068582099 an 4400799",
        "Ihre FRITZ!Box hat ein Fax empfangen.\nAbsender: 03068582099\nEmpfänger: 4400799\n"
        "1 Seite\n\nAVM FRITZ!Box 7590",
        to=FAX_ADDRESS,
    )
    message.add_attachment(
        document, maintype="application", subtype="pdf", filename="Fax-Eingang.pdf"
    )
    return message


async def test_fax_on_the_card_and_found(store: EventStore, tmp_path: Path) -> None:
    async with running_firm(store, tmp_path) as firm:
        await firm.deliver(fritzbox_fax(scanned_pdf([ORDER])), to=[FAX_ADDRESS])
        page = await firm.page()
        fax = await firm.shown(page, f"/contacts/{HOFMANN}", "li.kind-fax")
        preview = fax.locator("img.fax-preview")
        # decode() settles once the image loaded (through the logged-in route) or failed.
        assert await preview.evaluate("img => img.decode().then(() => img.naturalWidth)") > 100
        await fax.locator("details.fax-text summary").click()
        assert "Erkannter Text" in await fax.locator("details.fax-text summary").inner_text()
        text = await fax.locator("details.fax-text pre").inner_text()
        assert "Weihnachtsstollen" in text and "Butterkuchen" in text, text
        await firm.shot(page, "1-card-fax")
        await page.fill("header input[name=q]", "weihnachtsstollen")
        await page.press("header input[name=q]", "Enter")
        await page.wait_for_url(f"{firm.base_url}/search?q=weihnachtsstollen")
        found = page.locator("main li.kind-fax")
        assert await found.count() == 1
        await firm.shot(page, "2-search-finds-fax")
        await found.locator(f"a[href='/contacts/{HOFMANN}?kind=fax']").click()
        await page.wait_for_url(f"{firm.base_url}/contacts/{HOFMANN}?kind=fax")
        assert await page.locator("h1").inner_text() == "Bäckerei Hofmann OHG"
