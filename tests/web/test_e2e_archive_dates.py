"""The archive list in a real browser (Chromium) at a desktop's 1280 px, in German: each
row's "Erfasst" date and time stay on one line beside long senders, recipients and
subjects, and the page does not scroll sideways.

Regression: the date column was squeezed by the long columns beside it, so "07.12.2026
13:12" broke at its space and every row of the list took two lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.archive import Archive
from hub.events import NewEvent
from hub.events.mail import EmailReceived
from hub.store import EventStore
from tests.web.live import running

pytestmark = pytest.mark.slow

# Each first-column link: how many line boxes it takes; and whether the page is wider than
# the window.
MEASURE = """() => {
    const links = [...document.querySelectorAll("table.list tbody td:first-child a")];
    const root = document.documentElement;
    return {
        texts: links.map(a => a.textContent.trim()),
        lines: links.map(a => a.getClientRects().length),
        pageOverflows: root.scrollWidth > root.clientWidth,
    };
}"""

SUBJECT = "Angebot für die Lieferung von 40 Paletten Feinsteinzeug, Baustelle Hamburg-Altona"
TO = tuple(f"{name}@stadtwerke-beispielstadt.example" for name in ("einkauf", "bauleitung"))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the layout does not depend on the database."""
    return f"sqlite:///{tmp_path}/kartei.db"


async def test_captured_dates_stay_on_one_line_at_desktop_width(
    store: EventStore, tmp_path: Path
) -> None:
    async with running(store, tmp_path) as live:
        archive = Archive(live.kartei.settings.data_dir / "archive")
        for i in range(3):
            raw = f"From: kunde{i}@example.de\r\nSubject: {SUBJECT}\r\n\r\nHallo\r\n".encode()
            mail = EmailReceived(
                sender=f"dr.friederike.mustermann-schulze{i}@grosshandel-norddeutschland.example",
                to=TO,
                subject=f"{SUBJECT} ({i})",
                raw_ref=archive.put(raw),
                raw_size=len(raw),
            )
            await store.append(f"email-{i}", 0, [NewEvent(mail, idempotency_key=f"mail:{i}")])
        page = await live.page()
        await page.goto(f"{live.base_url}/archive")
        assert await page.locator("th", has_text="Erfasst").count() == 1
        await page.screenshot(path=str(tmp_path / "archive-1280-de.png"), full_page=True)
        measured = await page.evaluate(MEASURE)
        assert len(measured["texts"]) == 3, measured
        assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", t) for t in measured["texts"])
        assert measured["lines"] == [1, 1, 1], measured
        assert not measured["pageOverflows"], measured
