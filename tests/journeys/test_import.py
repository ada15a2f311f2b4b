"""Import a messy Outlook export through the web page: the report is German, in file order,
and a row with fewer fields than the header is reported, not guessed into a contact."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from adapters.importers.samples import OUTLOOK_HEADER
from hub.store import EventStore
from tests.journeys.firm import running_firm

pytestmark = pytest.mark.slow

KATRIN = "3f33c351501102ab"  # a demo customer: Katrin Klein, k.klein@autohaus-vogel.de
# What an English reason would contain; a German report has none of these words.
ENGLISH = re.compile(
    r"\b(the|not|is|of|row|rows|field|fields|email|address|phone|number|missing|invalid"
    r"|merged|created|duplicate|fewer|than|header|line|already|unknown|empty)\b",
    re.I,
)


def row(**values: str) -> list[str]:
    return [values.get(column, "") for column in OUTLOOK_HEADER]


def messy_outlook_export() -> bytes:
    """What Outlook's "Kommagetrennte Werte (Windows)" export writes, and what people leave
    in it: cp1252, `;`, a note over two lines, odd numbers, a stub row typed by hand."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(OUTLOOK_HEADER)  # line 1
    writer.writerows(
        [
            row(Anrede="Herr", Vorname="Jens", Nachname="Ohlsen", Firma="Ohlsen Haustechnik GmbH",
                **{"Telefon geschäftlich": "(040) 552 31-0",
                   "E-Mail-Adresse": "j.ohlsen@ohlsen-haustechnik.de"}),  # 2: new
            row(Vorname="Katrin", Nachname="Klein", Firma="Autohaus Vogel KG",
                **{"Telefon privat": "030 4455667",
                   "E-Mail-Adresse": "k.klein@autohaus-vogel.de"}),  # 3: known, a new number
            row(),  # 4: an empty row
            row(Vorname="Sabine", Nachname="Kurz",
                **{"E-Mail-Adresse": "sabine.kurz(at)web.de"}),  # 5: not an address
            row(Vorname="Mehmet", Nachname="Öztürk", Firma="Öztürk Transporte",
                Notizen="Lieferung nur vormittags;\r\nTor 3 benutzen",
                Mobiltelefon="0171/2345678"),  # 6-7: the note spans two lines
        ]
    )  # fmt: skip
    out.write("zu;wenig\r\n")  # 8: typed by hand, two fields under a 21-column header
    writer.writerows(
        [
            row(Vorname="Jürgen", Nachname="Müßig",
                Mobiltelefon="+49 (0)172 / 234 56 78"),  # 9: written every which way
            row(Vorname="Björn", Nachname="Weiß", Firma="Weiß & Söhne",
                **{"Telefon geschäftlich": "bitte erfragen"}),  # 10: not a number
        ]
    )  # fmt: skip
    return out.getvalue().encode("cp1252")


async def test_import_messy_outlook_csv(store: EventStore, tmp_path: Path) -> None:
    export = tmp_path / "Kontakte.CSV"
    export.write_bytes(messy_outlook_export())
    async with running_firm(store, tmp_path) as firm:
        page = await firm.page()
        await page.click("nav >> text=Kontakte importieren")
        await page.set_input_files("input[type=file]", str(export))
        await page.click("form.import button[type=submit]")
        report = page.locator(".import-report[data-dry-run=no]")
        await report.wait_for(timeout=20_000)
        await firm.shot(page, "1-import-report")
        rows = page.locator("tr[data-line]")
        lines = [int(n or 0) for n in await rows.evaluate_all("rs => rs.map(r => r.dataset.line)")]
        assert lines == sorted(lines), lines  # file order
        assert {2, 3, 5, 6, 8, 9, 10} <= set(lines), lines
        texts = [" ".join((await rows.nth(i).inner_text()).split()) for i in range(len(lines))]
        for text in texts:
            assert not ENGLISH.search(text), text
        by_line = dict(zip(lines, texts, strict=True))
        classes = [await rows.nth(i).get_attribute("class") for i in range(len(lines))]
        result = dict(zip(lines, classes, strict=True))
        assert (result[2], result[3], result[8]) == ("row-create", "row-merge", "row-error")
        assert await page.locator("tr[data-line='3'] a").get_attribute("href") == (
            f"/contacts/{KATRIN}"
        )
        # Kept, with a remark on what was left out.
        assert result[5] == "row-create" and "sabine.kurz(at)web.de" in by_line[5]
        assert result[10] == "row-create" and "bitte erfragen" in by_line[10]
        # Nobody was made up from the stub row.
        await page.goto(f"{firm.base_url}/search?q=wenig")
        assert "Nichts gefunden." in await page.locator("main").inner_text()
        # The known customer gained the new number.
        await page.goto(f"{firm.base_url}/contacts/{KATRIN}")
        facts = await page.locator("section.who dl.facts").inner_text()
        assert "4455667" in re.sub(r"\D", "", facts)
