"""The dashboard's health panel in a real browser: components by human German names and
states, and a long error wraps inside the panel instead of spilling out of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.store import EventStore
from tests.web.live import running

pytestmark = pytest.mark.slow
LONG_ERROR = "Modell nicht geladen: " + "/var/lib/kartei/models/" * 12 + "model.safetensors"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the layout does not depend on the database."""
    return f"sqlite:///{tmp_path}/kartei.db"


@pytest.mark.parametrize("width", [1280, 390])
async def test_health_panel_names_and_wraps(store: EventStore, tmp_path: Path, width: int) -> None:
    async with running(store, tmp_path) as live:
        live.kartei.health.component("classifier").set("failed", error=LONG_ERROR)
        page = await live.page()
        await page.set_viewport_size({"width": width, "height": 860})
        await page.reload()
        phone = page.locator("tr[data-component='adapter:fritzbox'] td")
        assert await phone.all_text_contents() == ["Telefonanlage fritzbox", "läuft", ""]
        failed = page.locator("tr[data-component=classifier] td")
        assert (await failed.all_text_contents())[:2] == ["Klassifikator", "Fehler"]
        panel = page.locator("section:has(table.health)")
        fits = await panel.evaluate(
            """section => {
                const box = section.getBoundingClientRect();
                const cells = [...section.querySelectorAll("td")];
                return section.scrollWidth <= section.clientWidth
                    && cells.every(td => td.getBoundingClientRect().right <= box.right + 0.5);
            }"""
        )
        assert fits
