"""The archive list in a real browser (Chromium) at a desktop's 1280 px, beside long
senders, recipients and subjects: each row's "Erfasst" date and time stay on one line; the
search box shows its whole placeholder; the "Art" column (E-Mail, Fax) and its header stay
on one line, in German and English; the page does not scroll sideways.

Regressions: the date column was squeezed by the long columns beside it, so "07.12.2026
13:12" broke at its space and every row took two lines; the search box kept the browser's
default width and cut its placeholder ("Absender, Empfänger, Betr…"); "E-Mail" broke at
its hyphen in every row.
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

# The search box: its placeholder's width in the box's font against the room inside the
# box; the "kind" column: how many lines its header and each cell take.
MEASURE_FITS = """() => {
    const box = document.querySelector('form[action="/archive"] input[type=search]');
    const style = getComputedStyle(box);
    const canvas = document.createElement("canvas").getContext("2d");
    canvas.font = style.font;
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const lines = (node) => {
        const range = document.createRange();
        range.selectNodeContents(node);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    };
    const kind = [...document.querySelectorAll("table.list tbody td:nth-child(2)")];
    const root = document.documentElement;
    return {
        placeholder: box.placeholder,
        placeholderWidth: canvas.measureText(box.placeholder).width,
        room,
        scrolls: box.scrollWidth > box.clientWidth,
        header: document.querySelector("table.list thead th:nth-child(2)").textContent.trim(),
        headerLines: lines(document.querySelector("table.list thead th:nth-child(2)")),
        kinds: kind.map(td => td.textContent.trim()),
        kindLines: kind.map(lines),
        pageOverflows: root.scrollWidth > root.clientWidth,
    };
}"""

# Each first-column link: how many line boxes it takes; and whether the page is wider than
# the window.
MEASURE_DATES = """() => {
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


async def test_search_box_and_kind_column_fit_at_desktop_width(
    store: EventStore, tmp_path: Path
) -> None:
    async with running(store, tmp_path) as live:
        await long_mails(store, live.kartei.settings.data_dir / "archive")
        page = await live.page()
        for language, placeholder, header, kind in (
            ("de", "Absender, Empfänger, Betreff suchen", "Art", "E-Mail empfangen"),
            ("en", "Search sender, recipient, subject", "Kind", "Email received"),
        ):
            if language == "en":
                await live.choose_language(page, "en")
            await page.goto(f"{live.base_url}/archive")
            await page.screenshot(path=str(tmp_path / f"archive-1280-{language}.png"))
            seen = await page.evaluate(MEASURE_FITS)
            assert seen["placeholder"] == placeholder, seen
            assert seen["placeholderWidth"] <= seen["room"], seen  # the whole text shows
            assert not seen["scrolls"], seen
            assert (seen["header"], seen["headerLines"]) == (header, 1), seen
            assert seen["kinds"] == [kind] * 3 and seen["kindLines"] == [1, 1, 1], seen
            assert not seen["pageOverflows"], seen


async def test_captured_dates_stay_on_one_line_at_desktop_width(
    store: EventStore, tmp_path: Path
) -> None:
    async with running(store, tmp_path) as live:
        await long_mails(store, live.kartei.settings.data_dir / "archive")
        page = await live.page()
        await page.goto(f"{live.base_url}/archive")
        assert await page.locator("th", has_text="Erfasst").count() == 1
        await page.screenshot(path=str(tmp_path / "archive-1280-de.png"), full_page=True)
        measured = await page.evaluate(MEASURE_DATES)
        assert len(measured["texts"]) == 3, measured
        assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", t) for t in measured["texts"])
        assert measured["lines"] == [1, 1, 1], measured
        assert not measured["pageOverflows"], measured


async def long_mails(store: EventStore, archive_dir: Path) -> None:
    """Three received mails with a long sender, two recipients and a long subject."""
    archive = Archive(archive_dir)
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
