"""A running Kartei (projections live, FRITZ!Box driver, web server) and a real Chromium."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from hub.bootstrap import Kartei, bootstrap, components, default_adapters, default_projections
from hub.runtime import Supervisor
from hub.store import EventStore
from tests.telephony.peers import FritzBoxPeer
from tests.web.conftest import FAST_HASHER, PASSWORD, make_settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS = Path(__file__).resolve().parents[2] / "docs"


@dataclass
class Live:
    kartei: Kartei
    base_url: str
    peer: FritzBoxPeer
    browser: Browser

    async def caught_up(self, name: str, position: int) -> None:
        """Waits until projection `name` has applied the event at `position`."""
        async with asyncio.timeout(10):
            await self.kartei.projections[name].wait_for(position)

    async def page(self, username: str = "anna") -> Page:
        """A new browser page, logged in."""
        context = await self.browser.new_context(
            viewport={"width": 1280, "height": 860}, locale="de-DE"
        )
        page = await context.new_page()
        await page.goto(f"{self.base_url}/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.base_url}/")
        return page

    async def choose_language(self, page: Page, language: str) -> None:
        """Sets the signed-in user's language on /settings and waits until the form's
        answer has loaded (a reload or goto while it is on its way races with it)."""
        await page.goto(f"{self.base_url}/settings")
        await page.select_option("select[name=language]", language)
        async with page.expect_navigation():
            await page.click("form:has(select[name=language]) button[type=submit]")


@contextlib.asynccontextmanager
async def running(store: EventStore, tmp_path: Path) -> AsyncIterator[Live]:
    peer = FritzBoxPeer()
    await peer.start()
    settings = make_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": 0},
        telephony={"fritzbox": [{"name": "fritzbox", "host": "127.0.0.1", "port": peer.port}]},
        contacts={"own_area_code": "30"},
    )
    kartei = bootstrap(
        settings,
        store=store,
        projections=default_projections(settings),
        policies=[],
        adapters=default_adapters(settings),
    )
    assert kartei.web is not None
    kartei.web.app.state.accounts.hasher = FAST_HASHER
    await kartei.web.app.state.accounts.add("anna", PASSWORD, role="admin", display_name="Anna")
    supervisor = Supervisor(kartei.health)
    task = asyncio.create_task(supervisor.run(components(kartei, web=True)))
    async with asyncio.timeout(20):
        await kartei.web.ready.wait()
        await peer.wait_connections(1)
    base_url = f"http://127.0.0.1:{kartei.web.bound_port}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield Live(kartei, base_url, peer, browser)
        finally:
            await browser.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await kartei.web.app.state.pop.close()
            await peer.close()
