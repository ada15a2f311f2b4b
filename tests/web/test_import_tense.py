"""The import report says what will happen in a preview and what did happen after the
import: "anlegen" / "zusammenführen" before, "angelegt" / "zusammengeführt" after (both
databases).

Regression: after a real import the result column still said "anlegen" and
"zusammenführen".
"""

from __future__ import annotations

import re

from hub.store import EventStore
from tests.contacts.outlook_export import outlook_export
from tests.web.conftest import Web
from tests.web.test_import import upload, wire


def results(page: str) -> dict[int, str]:
    """The result column of each report row, by line."""
    rows = re.findall(r'data-line="(\d+)">\s*<td>\d+</td><td>([^<]*)</td>', page)
    return {int(line): result for line, result in rows}


def summary(page: str) -> list[str]:
    """The labels of the counts above the table."""
    block = page[page.index('class="summary"') : page.index("</ul>", page.index('"summary"'))]
    return re.findall(r"<li>([^:<]+):", block)


async def test_preview_says_will_and_import_says_did(web: Web, store: EventStore, admin) -> None:
    wire(web)
    http, csrf = admin
    preview = (await upload(http, csrf, outlook_export(), preview="1")).text
    will = results(preview)
    assert (will[2], will[13], will[5]) == ("anlegen", "zusammenführen", "Fehler")
    assert summary(preview)[:2] == ["anlegen", "zusammenführen"]
    done = (await upload(http, csrf, outlook_export())).text
    did = results(done)
    assert (did[2], did[13], did[5]) == ("angelegt", "zusammengeführt", "Fehler")
    assert summary(done)[:2] == ["angelegt", "zusammengeführt"]
    await web.settle()
    again = results((await upload(http, csrf, outlook_export())).text)
    assert again[2] == "unverändert"
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    preview = (await upload(http, csrf, outlook_export(), preview="1")).text
    assert "row-unchanged" in preview
    assert set(results(preview).values()) <= {"create", "merge", "unchanged", "error"}
