"""The main navigation in a real browser, as an admin sees it (the most items): on one line
at a desktop's 1280 px, in German and English; at a tablet's and a phone's width every
item is still reachable and the page never scrolls sideways.

Regression: at 1280 px the admin's nav wrapped "Archiv" onto a second line of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from hub.store import EventStore
from tests.web.live import running

pytestmark = pytest.mark.slow
ADMIN_ITEMS = 10  # Dashboard … Archive: what tests.web.live's admin "anna" sees

# The nav's links: how many, how many distinct lines they sit on, and whether the page or
# a link reaches past the window's right edge (a phone's nav scrolls inside itself).
MEASURE = """() => {
    const nav = document.querySelector("header.top nav.main");
    const links = [...nav.querySelectorAll("a")];
    const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
    const root = document.documentElement;
    const edge = nav.getBoundingClientRect().right + 0.5;
    const navScrolls = nav.scrollWidth > nav.clientWidth;
    return {
        links: links.length,
        lines: tops.size,
        navHeight: nav.getBoundingClientRect().height,
        linkHeight: links[0].getBoundingClientRect().height,
        pageOverflows: root.scrollWidth > root.clientWidth,
        navScrolls,
        cutOff: !navScrolls && links.some(a => a.getBoundingClientRect().right > edge),
    };
}"""


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the layout does not depend on the database."""
    return f"sqlite:///{tmp_path}/kartei.db"


async def measured(page: Page, width: int) -> dict[str, object]:
    await page.set_viewport_size({"width": width, "height": 860})
    await page.reload()
    return dict(await page.evaluate(MEASURE))


async def test_admin_nav_on_one_line_at_desktop_width(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        page = await live.page()
        for language in ("de", "en"):
            if language == "en":
                await live.choose_language(page, "en")
            nav = await measured(page, 1280)
            assert nav["links"] == ADMIN_ITEMS, nav
            assert nav["lines"] == 1, (language, nav)
            height, link = nav["navHeight"], nav["linkHeight"]
            assert isinstance(height, float | int) and isinstance(link, float | int)
            assert height < 2 * link, (language, nav)
            assert not nav["pageOverflows"], (language, nav)


@pytest.mark.parametrize("width", [768, 390])
async def test_admin_nav_reachable_without_sideways_scrolling(
    store: EventStore, tmp_path: Path, width: int
) -> None:
    async with running(store, tmp_path) as live:
        page = await live.page()
        nav = await measured(page, width)
        assert nav["links"] == ADMIN_ITEMS, nav
        assert not nav["pageOverflows"], nav
        assert not nav["cutOff"], nav  # a link past the edge only where the nav scrolls
        if width == 390:
            assert nav["lines"] == 1 and nav["navScrolls"], nav  # one swipeable row, as before
