"""The import report from the user's side: a messy German Outlook/Excel export uploaded on
the web page; rows in file order, reasons in the user's language, a row cut short or split
by a bare semicolon reported and not imported (both databases)."""

from __future__ import annotations

import html
import re
from string import Formatter

import pytest

from adapters.importers import remarks
from hub.store import EventStore
from hub.web.i18n import GERMAN
from tests.contacts.outlook_export import LINES, outlook_export
from tests.web.conftest import Web
from tests.web.test_import import count, upload, wire


def report_rows(page: str) -> list[tuple[int, str, str, str]]:
    """(line, result, name, why) of each row of the report table, top to bottom."""
    rows = re.findall(
        r'<tr class="row-(\w+)" data-line="(\d+)">\s*<td>\d+</td><td>[^<]*</td>\s*'
        r"<td>(.*?)</td>\s*<td>(.*?)</td>",
        page,
        re.S,
    )
    return [(int(line), action, _text(name), _text(why)) for action, line, name, why in rows]


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell))


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
async def test_a_messy_export_reports_in_file_order_in_german(
    web: Web, store: EventStore, admin, encoding: str
) -> None:
    wire(web)
    http, csrf = admin
    done = await upload(http, csrf, outlook_export(encoding), name="Kontakte.CSV")
    assert done.status_code == 200, done.text
    rows = report_rows(done.text)
    assert [line for line, *_ in rows] == LINES
    by_line = {line: (action, name, why) for line, action, name, why in rows}
    assert by_line[5][0] == "error" and by_line[5][2] == (
        "nur 2 von 15 Feldern der Kopfzeile; nicht importiert (Trennzeichen und "
        "Anführungszeichen der Zeile prüfen)"
    )
    assert by_line[10][0] == "error" and by_line[10][2].startswith(
        "16 Felder, die Kopfzeile hat 15"
    )
    assert by_line[6] == ("create", "Anna Schulz", "E-Mail „kaputt“ ist keine Adresse; weggelassen")
    assert by_line[7][2] == "kein Name, keine Firma, E-Mail-Adresse oder Telefonnummer"
    assert by_line[13] == (
        "merge",
        "Erika Muster",
        "gleiche E-Mail-Adresse erika@muster.example wie Erika Muster",
    )
    assert count(done.text, "create") == 6 and count(done.text, "error") == 3
    created = await store.read_all(0, 100, types=("ContactCreated",))
    assert len(created) == 6
    assert not [r for r in created if "wenig" in repr(r.event)]


async def test_the_report_follows_the_users_language(web: Web, store: EventStore, admin) -> None:
    wire(web)
    http, csrf = admin
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    preview = await upload(http, csrf, outlook_export(), preview="1")
    by_line = {line: why for line, _, _, why in report_rows(preview.text)}
    assert by_line[5].startswith("only 2 of the header's 15 fields; not imported")
    assert by_line[6] == "email 'kaputt' is not an address; left out"


async def test_a_file_that_cannot_be_read_says_why_in_german(
    web: Web, store: EventStore, admin
) -> None:
    wire(web)
    http, csrf = admin
    refused = await upload(http, csrf, "Lieblingsfarbe;Schuhgröße\r\nblau;42\r\n".encode("cp1252"))
    assert refused.status_code == 400
    assert "keine Kopfzeile gefunden" in html.unescape(refused.text)


def test_every_remark_has_a_german_text_with_the_same_placeholders() -> None:
    names = lambda text: {f for _, f, _, _ in Formatter().parse(text) if f}  # noqa: E731
    for key in remarks.KEYS:
        assert key in GERMAN, key
        assert names(GERMAN[key]) == names(key), key
