"""The README's screenshots, from a running demo firm (`scripts/demo`, or `kartei init
--demo DIR` and `kartei run`): card, company card, dashboard, tasks, calls, the pop, and
the card and pop at a phone's width. Real Chromium through Playwright.

    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8080 --out docs
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright

PERSON = "56980d12178fada3"  # Andreas Meyer (Sanitär Meyer), a customer with a history
COMPANY = "c0b0b57a254cd9ed"  # Autohaus Vogel KG, its people, flagged at risk
CALLER = "4934197836511"  # Andreas Meyer's number as sipgate sends it
LINE = "49304400770"  # the demo firm's sipgate line
WEBHOOK = "/telephony/sipgate/demo-webhook-kartei-2026"


async def ring(base_url: str, page: Page, answer: bool) -> dict[str, str]:
    """A call from Andreas Meyer on the firm's sipgate line; waits for the pop. The
    call's fields, to hang it up once the pop is on the picture."""
    call = uuid.uuid4().hex[:12]
    base = {"from": CALLER, "to": LINE, "direction": "in", "callId": call}
    async with httpx.AsyncClient(base_url=base_url) as http:
        await http.post(WEBHOOK, data={**base, "event": "newCall", "user[]": ["Maria Kühn"]})
        await page.locator(".pop .pop-recent").first.wait_for(timeout=10_000)
        if answer:
            await http.post(WEBHOOK, data={**base, "event": "answer", "user": "Maria Kühn"})
            await page.locator(".pop.answered").first.wait_for(timeout=10_000)
    await page.wait_for_timeout(500)  # the pop slides in
    return base


async def hang_up(base_url: str, call: dict[str, str], cause: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        await http.post(WEBHOOK, data={**call, "event": "hangup", "cause": cause})


async def main(base_url: str, out: Path, user: str, password: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="de-DE")
        page = await context.new_page()
        await page.goto(base_url + "/login")
        await page.fill("input[name=username]", user)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(base_url + "/")
        shots = {
            "dashboard": "/",
            "card": f"/contacts/{PERSON}",
            "company": f"/contacts/{COMPANY}",
            "tasks": "/tasks?scope=team",
            "calls": "/calls?days=7",
        }
        for name, path in shots.items():
            await page.goto(base_url + path)
            await page.screenshot(
                path=str(out / f"screenshot-{name}.png"), full_page=name != "card"
            )
        await page.goto(base_url + f"/contacts/{PERSON}")
        await page.locator("body[data-pop=connected]").wait_for()
        call = await ring(base_url, page, answer=True)
        await page.screenshot(path=str(out / "screenshot-pop.png"))
        await hang_up(base_url, call, "normalClearing")
        phone = await browser.new_context(
            viewport={"width": 390, "height": 844},
            locale="de-DE",
            storage_state=await context.storage_state(),
        )
        small = await phone.new_page()
        await small.goto(base_url + f"/contacts/{PERSON}")
        await small.screenshot(path=str(out / "screenshot-phone-card.png"))
        await small.goto(base_url + "/")
        await small.locator("body[data-pop=connected]").wait_for()
        call = await ring(base_url, small, answer=False)
        await small.screenshot(path=str(out / "screenshot-phone-pop.png"))
        await hang_up(base_url, call, "normalClearing")
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="kartei-demo")
    args = parser.parse_args()
    asyncio.run(main(args.base_url.rstrip("/"), args.out, args.user, args.password))
