"""Screen pop latency: RING line on the FRITZ!Box socket -> caller's name visible in N pages.

Runs the real Kartei in this process (store on SQLite, projections, FRITZ!Box driver, web
server) against a call-monitor peer (a TCP server writing the box's line format), with N
real headless Chromium pages logged in and holding their server-sent-events connection.
For each call it takes the wall clock just before the RING line is written and the page's
own clock (performance.timeOrigin + now) when the name appeared (MutationObserver), and
reports p50/p99 over every page and call. Also: server time of a contact card with a long
history. Prints one JSON object on its last line.

    python bench/screenpop.py            # 25 pages, 100,000 contacts, 200 calls, 5,000 entries
    python bench/screenpop.py --quick    # 5 pages, 2,000 contacts, 30 calls, 500 entries
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from playwright.async_api import async_playwright

from hub.bootstrap import bootstrap, components, default_adapters, default_projections
from hub.events import NewEvent
from hub.events.contacts import ContactCreated, Phone
from hub.events.mail import EmailReceived
from hub.runtime import Supervisor
from hub.settings import Settings

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OBSERVE = """
window.__pops = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll(".pop:not([data-seen])")) {
    const name = el.querySelector(".pop-name");
    if (name && name.textContent) {
      el.dataset.seen = "1";
      window.__pops.push({call: el.dataset.call, t: performance.timeOrigin + performance.now()});
    }
  }
}).observe(document, {childList: true, subtree: true});
"""
PASSWORD = "bench-passwort"


class Box:
    """The FRITZ!Box call monitor peer: accepts the driver, writes lines to it."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.connected = asyncio.Event()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        self.connected.set()
        with contextlib.suppress(OSError):
            await reader.read()

    async def send(self, line: str) -> None:
        self.writers[-1].write((line + "\r\n").encode())
        await self.writers[-1].drain()


def number(i: int) -> str:
    return f"+49301{i:07d}"


async def seed(store, contacts: int, history: int) -> str:  # type: ignore[no-untyped-def]
    batch = 500
    for start in range(0, contacts, batch):
        async with store.transaction() as tx:
            for i in range(start, min(start + batch, contacts)):
                cid = f"c{i:07d}"
                event = ContactCreated(
                    contact_id=cid,
                    given_name=f"Vorname{i}",
                    family_name=f"Nachname{i}",
                    company=f"Firma {i % 997}",
                    customer_number=f"K-{i}",
                    phones=(Phone(number=number(i)),),
                    emails=(f"kunde{i}@example.org",),
                )
                await tx.append(f"contact-{cid}", 0, [NewEvent(event)])
    for start in range(0, history, batch):
        async with store.transaction() as tx:
            for i in range(start, min(start + batch, history)):
                mail = EmailReceived(
                    message_id=f"<{i}@example.org>",
                    sender="kunde0@example.org",
                    to=("info@firma.example",),
                    subject=f"Nachricht {i}",
                    text="Guten Tag, " * 20,
                )
                await tx.append(f"email-{uuid.uuid4().hex}", 0, [NewEvent(mail)])
    return "c0000000"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(pages_n: int, contacts: int, calls: int, history: int) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="kartei-bench-"))
    box = Box()
    port = await box.start()
    settings = Settings(
        kartei={"data_dir": tmp},  # type: ignore[arg-type]
        web={"host": "127.0.0.1", "port": 0},  # type: ignore[arg-type]
        telephony={"fritzbox": [{"host": "127.0.0.1", "port": port}]},  # type: ignore[arg-type]
        contacts={"own_area_code": "30"},  # type: ignore[arg-type]
        database={"pool_size": 20},  # type: ignore[arg-type]
    )
    kartei = bootstrap(
        settings,
        projections=default_projections(settings),
        policies=[],
        adapters=default_adapters(settings),
    )
    await kartei.store.start()
    started = time.perf_counter()
    first = await seed(kartei.store, contacts, history)
    seeded = time.perf_counter() - started
    assert kartei.web is not None
    app = kartei.web.app
    app.state.accounts.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    await app.state.accounts.add("bench", PASSWORD)
    task = asyncio.create_task(Supervisor(kartei.health).run(components(kartei, web=True)))
    started = time.perf_counter()
    head = await kartei.store.head()
    for name in ("contacts", "identity", "timeline"):
        await kartei.projections[name].wait_for(head if name == "timeline" else contacts)
    caught_up = time.perf_counter() - started
    await kartei.web.ready.wait()
    await box.connected.wait()
    base = f"http://127.0.0.1:{kartei.web.bound_port}"
    result: dict[str, object] = {}
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            form = await http.get("/login")
            token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            await http.post(
                "/login", data={"username": "bench", "password": PASSWORD, "csrf": token}
            )
            cookie = http.cookies["kartei_session"]
            card_ms = []
            for _ in range(10):
                t0 = time.perf_counter()
                response = await http.get(f"/contacts/{first}")
                card_ms.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            pages = []
            for _ in range(pages_n):
                context = await browser.new_context(bypass_csp=True)  # for wait_for_function
                await context.add_cookies(
                    [{"name": "kartei_session", "value": cookie, "url": base}]
                )
                await context.add_init_script(OBSERVE)
                page = await context.new_page()
                await page.goto(f"{base}/tasks")
                await page.wait_for_selector("body[data-pop=connected]", state="attached")
                pages.append(page)
            sent: list[float] = []
            begin = datetime.now()
            for n in range(calls):
                i = (n * 7919) % contacts
                # One second apart: the box names a call by its time and connection id.
                stamp = (begin + timedelta(seconds=n)).strftime("%d.%m.%y %H:%M:%S")
                raw = "0" + number(i)[3:]
                sent.append(time.time() * 1000)
                await box.send(f"{stamp};RING;{n % 4};{raw};3012345;SIP0;")
                await asyncio.gather(
                    *(p.wait_for_function(f"window.__pops.length >= {n + 1}") for p in pages)
                )
                await box.send(f"{stamp};DISCONNECT;{n % 4};0;")
                await asyncio.gather(
                    *(
                        p.evaluate("document.querySelectorAll('.pop').forEach(e => e.remove())")
                        for p in pages
                    )
                )
            latencies: list[float] = []
            per_call_max: dict[int, float] = {}
            for page in pages:
                pops = await page.evaluate("window.__pops")
                for k, pop in enumerate(pops):
                    start = sent[k]
                    latencies.append(pop["t"] - start)
                    per_call_max[k] = max(per_call_max.get(k, 0.0), pop["t"] - start)
            await browser.close()
        result = {
            "benchmark": "screenpop",
            "pages": pages_n,
            "contacts": contacts,
            "calls": calls,
            "samples": len(latencies),
            "ring_to_name_ms_p50": round(statistics.median(latencies), 2),
            "ring_to_name_ms_p99": round(percentile(latencies, 0.99), 2),
            "ring_to_name_ms_max": round(max(latencies), 2),
            "slowest_page_per_call_ms_p99": round(percentile(list(per_call_max.values()), 0.99), 2),
            "target_p99_ms": 50,
            "card_history_entries": history,
            "card_server_ms_p50": round(statistics.median(card_ms), 2),
            "card_server_ms_max": round(max(card_ms), 2),
            "target_card_ms": 200,
            "seed_seconds": round(seeded, 1),
            "projection_catch_up_seconds": round(caught_up, 1),
            "database": "sqlite",
        }
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.state.pop.close()
        await kartei.store.close()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    args = parser.parse_args()
    if args.quick:
        figures = asyncio.run(main(5, 2_000, 30, 500))
    else:
        figures = asyncio.run(main(25, 100_000, 200, 5_000))
    print(json.dumps(figures))
