"""Screen pop latency: RING line on the FRITZ!Box socket -> caller's name visible in N pages.

Kartei runs in a child process (store on SQLite, projections, FRITZ!Box driver, web
server), as `kartei run` would: the benchmark's own Playwright client, which handles every
page's messages, must not share the server's event loop. This process plays the FRITZ!Box
call monitor (a TCP server writing the box's line format) and drives N real headless
Chromium pages, logged in and holding their server-sent-events connection.

For each call it takes the wall clock just before the RING line is written, the page's
clock (performance.timeOrigin + now) when the pop message arrived on the EventSource, and
when the caller's name appeared in the page (MutationObserver), and reports p50/p99 over
every page and call. The Kartei process clocks the same rings on its side (line read,
ring committed, taken by the pop, pushed, each connection's SSE write; wall clock, as the
pages' clock is), so each sample splits into stages (`stage_*_ms`: p50 and p99). Baseline
measured in the same run: the same pages' round trip for a DOM change the benchmark makes
itself (what Chromium scheduling alone costs). Also the server time of a contact card
with a long history. Prints one JSON object on its last line.

`--streams N` adds N plain SSE readers (a process of their own, no browser) to the pages:
`--pages 0 --streams 25` measures the server's part alone; `--pages 1 --streams 24` what
one workstation sees while the server serves 25, without 25 Chromium renderers on the
server's own 2 cores (staff have a browser each on their own machine).

    python bench/screenpop.py            # 25 pages, 100,000 contacts, 200 calls, 5,000 entries
    python bench/screenpop.py --quick    # 5 pages, 2,000 contacts, 30 calls, 500 entries
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Staff have one browser each; here 25 share a machine. Playwright passes these too
    # (kept explicit): no page is throttled as a background page.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
# Records when the name of each pop appeared and when its SSE message arrived; the
# benchmark awaits a promise instead of polling every animation frame in 25 pages.
OBSERVE = """
window.__pops = []; window.__arrived = {}; window.__waiting = [];
const settle = () => {
  window.__waiting = window.__waiting.filter(([n, done]) => {
    if (window.__pops.length < n) return true;
    done(); return false;
  });
};
window.__until = (n) => new Promise((done) => { window.__waiting.push([n, done]); settle(); });
new MutationObserver(() => {
  for (const el of document.querySelectorAll(".pop:not([data-seen])")) {
    const name = el.querySelector(".pop-name");
    if (name && name.textContent) {
      el.dataset.seen = "1";
      window.__pops.push({call: el.dataset.call, t: performance.timeOrigin + performance.now()});
    }
  }
  settle();
}).observe(document, {childList: true, subtree: true});
const Native = window.EventSource;
window.EventSource = function (url, options) {
  const source = new Native(url, options);
  source.addEventListener("pop", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "ring" && !(m.call in window.__arrived))
      window.__arrived[m.call] = performance.timeOrigin + performance.now();
  });
  return source;
};
"""
PASSWORD = "bench-passwort"


def number(i: int) -> str:
    return f"+49301{i:07d}"


async def seed(store, contacts: int, history: int) -> str:  # type: ignore[no-untyped-def]
    from hub.events import NewEvent
    from hub.events.contacts import ContactCreated, Phone
    from hub.events.mail import EmailReceived

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


def serve(pipe: Connection, data_dir: str, box_port: int, contacts: int, history: int) -> None:
    """The child process: Kartei with the FRITZ!Box driver and the web server."""
    asyncio.run(_serve(pipe, Path(data_dir), box_port, contacts, history))


async def _serve(
    pipe: Connection, data_dir: Path, box_port: int, contacts: int, history: int
) -> None:
    from argon2 import PasswordHasher

    from hub.bootstrap import bootstrap, components, default_adapters, default_projections
    from hub.runtime import Supervisor
    from hub.settings import Settings

    settings = Settings(
        kartei={"data_dir": data_dir},  # type: ignore[arg-type]
        web={"host": "127.0.0.1", "port": 0},  # type: ignore[arg-type]
        telephony={"fritzbox": [{"host": "127.0.0.1", "port": box_port}]},  # type: ignore[arg-type]
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
    probes = Probes()
    probes.install(kartei)
    task = asyncio.create_task(Supervisor(kartei.health).run(components(kartei, web=True)))
    try:
        started = time.perf_counter()
        # Every projection, not only the ones the pop reads: one still catching up on the
        # seed holds the writer with big batches while the rings wait (not what we measure).
        # (Catching up ends with each checkpoint moved to the head, matching or not.)
        head = await kartei.store.head()
        for runner in kartei.projections.values():
            await runner.wait_for(head)
        caught_up = time.perf_counter() - started
        await kartei.web.ready.wait()
        pipe.send(
            {
                "port": kartei.web.bound_port,
                "first": first,
                "seed_seconds": round(seeded, 1),
                "projection_catch_up_seconds": round(caught_up, 1),
            }
        )
        await asyncio.to_thread(pipe.recv)  # the parent says when it is done
        pipe.send(probes.report())
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await app.state.pop.close()
        await kartei.store.close()


class Probes:
    """Server-side clocks for each ring (wall clock, comparable with the pages'
    performance.timeOrigin + now on the same machine): the driver read the line, the
    ring committed, the pop follower took it, its first message was pushed, and each
    connection's SSE write of it. Wraps the running objects; no product code changes."""

    def __init__(self) -> None:
        self.read: dict[str, float] = {}
        self.committed: dict[str, float] = {}
        self.taken: dict[str, float] = {}
        self.pushed: dict[str, float] = {}
        self.written: dict[str, list[float]] = {}
        self.cpu = (time.process_time(), time.time())

    def install(self, kartei: Any) -> None:
        from adapters.telephony import fritzbox
        from hub.events.calls import CallRinging

        record = fritzbox.record_calls

        async def record_calls(capture: Any, items: Any) -> int:
            t0 = time.time()
            if not self.read:
                self.cpu = (time.process_time(), t0)  # CPU share while calls come in
            n = await record(capture, items)
            t1 = time.time()
            for item in items:
                if isinstance(item.event, CallRinging):
                    self.read[item.stream], self.committed[item.stream] = t0, t1
            return n

        fritzbox.record_calls = record_calls  # type: ignore[assignment]
        hub = kartei.web.app.state.pop
        ring, push = hub.ring, hub._push

        async def taken(r: Any) -> Any:
            self.taken.setdefault(r.stream, time.time())
            return await ring(r)

        def pushed(message: dict[str, Any], *, partial: bool = False) -> None:
            push(message, partial=partial)
            if message["type"] == "ring":
                self.pushed.setdefault(message["call"], time.time())

        hub.ring, hub._push = taken, pushed
        kartei.web.app = self.wrap(kartei.web.app)

    def wrap(self, app: Any) -> Any:
        async def probed(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or scope["path"] != "/pop/stream":
                return await app(scope, receive, send)

            async def timed(message: Any) -> None:
                await send(message)
                body = message.get("body", b"")
                if b'"type":"ring"' in body:
                    call = json.loads(body.split(b"data: ", 1)[1])["call"]
                    self.written.setdefault(call, []).append(time.time())

            return await app(scope, receive, timed)

        return probed

    def report(self) -> dict[str, Any]:
        cpu, wall = time.process_time() - self.cpu[0], time.time() - self.cpu[1]
        return {
            "read": self.read,
            "committed": self.committed,
            "taken": self.taken,
            "pushed": self.pushed,
            "written": self.written,
            "server_cpu_share": round(cpu / wall, 3),
        }


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


def stages(
    sent: list[float],
    seen: list[tuple[int, str, float, float]],
    others: list[tuple[int, str, float, float]],
    server: dict[str, Any],
) -> dict[str, Any]:
    """Where each sample's time went (p50/p99 of each stage, milliseconds): RING written ->
    line read by the driver -> ring committed -> taken by the pop follower -> first message
    pushed -> this page's connection written (the k-th write of that call: the pages are
    not told apart on the server, so writes and arrivals are matched in order) -> arrived
    in the page -> name drawn."""
    out: dict[str, list[float]] = {
        k: [] for k in ("read", "commit", "wake", "lookup", "write", "deliver", "draw")
    }
    fanout: list[float] = []
    order: dict[str, list[float]] = {}
    for _, stream, arrived, _ in seen + others:  # every connection's arrival
        order.setdefault(stream, []).append(arrived)
    for k, stream, arrived, drawn in seen:
        read, committed = server["read"][stream] * 1000, server["committed"][stream] * 1000
        taken, pushed = server["taken"][stream] * 1000, server["pushed"][stream] * 1000
        writes = sorted(w * 1000 for w in server["written"].get(stream, []))
        rank = sorted(order[stream]).index(arrived)
        written = writes[min(rank, len(writes) - 1)] if writes else float("nan")
        out["read"].append(read - sent[k])
        out["commit"].append(committed - read)
        out["wake"].append(taken - committed)
        out["lookup"].append(pushed - taken)
        out["write"].append(written - pushed)
        out["deliver"].append(arrived - written)
        out["draw"].append(drawn - arrived)
    for stream, writes in server["written"].items():
        fanout.append((max(writes) - server["pushed"][stream]) * 1000)
    split: dict[str, Any] = {f"stage_{k}_ms": _p50_p99(v) for k, v in out.items()}
    split["stage_last_write_after_push_ms"] = _p50_p99(fanout)
    split["server_cpu_share_during_calls"] = server["server_cpu_share"]
    return split


def _p50_p99(values: list[float]) -> list[float]:
    return [round(statistics.median(values), 2), round(percentile(values, 0.99), 2)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


async def login(base: str) -> str:
    """The bench user's session cookie."""
    async with httpx.AsyncClient(base_url=base) as http:
        form = await http.get("/login")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        await http.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": token})
        return str(http.cookies["kartei_session"])


async def card_times(base: str, cookie: str, first: str) -> list[float]:
    """The card page's time (the first contact has the long history), ten times."""
    async with httpx.AsyncClient(base_url=base, cookies={"kartei_session": cookie}) as http:
        times = []
        for _ in range(10):
            t0 = time.perf_counter()
            response = await http.get(f"/contacts/{first}")
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        return times


async def open_pages(browser: Any, base: str, cookie: str, n: int) -> list[Page]:
    pages = []
    for _ in range(n):
        context = await browser.new_context(bypass_csp=True)  # for the evaluated scripts
        await context.add_cookies([{"name": "kartei_session", "value": cookie, "url": base}])
        await context.add_init_script(OBSERVE)
        page = await context.new_page()
        await page.goto(f"{base}/tasks", timeout=120_000)  # 25 Chromiums on a few cores
        await page.wait_for_selector("body[data-pop=connected]", state="attached", timeout=120_000)
        pages.append(page)
    return pages


async def dom_round_trip(pages: list[Page]) -> float:
    """Baseline: from here to a DOM change observed in every page (no server involved)."""
    t0 = time.time() * 1000
    seen = await asyncio.gather(
        *(
            p.evaluate(
                "() => new Promise((done) => {"
                " new MutationObserver((_, o) => { o.disconnect();"
                " done(performance.timeOrigin + performance.now()); })"
                ".observe(document.body, {attributes: true});"
                " document.body.dataset.tick = String(Math.random()); })"
            )
            for p in pages
        )
    )
    return max(seen) - t0


def chromium(nice: int) -> str:
    """The browser to launch: Debian's Chromium, at a lower CPU priority when `nice`."""
    if not nice:
        return "/usr/bin/chromium"
    wrapper = Path(tempfile.mkdtemp(prefix="kartei-bench-")) / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {nice} /usr/bin/chromium "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


class Watches:
    """Waits for every kind of client."""

    def __init__(self) -> None:
        self.watches: list[PageWatch | StreamWatch] = []

    async def until(self, n: int) -> None:
        await asyncio.gather(*(w.until(n) for w in self.watches))

    async def clear(self) -> None:
        await asyncio.gather(*(w.clear() for w in self.watches))


class PageWatch:
    """Waits for the pops in the Chromium pages and clears them."""

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages

    async def until(self, n: int) -> None:
        await asyncio.gather(*(p.evaluate(f"window.__until({n})") for p in self.pages))

    async def clear(self) -> None:
        remove = "document.querySelectorAll('.pop').forEach(e => e.remove())"
        await asyncio.gather(*(p.evaluate(remove) for p in self.pages))

    async def seen(self) -> list[list[tuple[str, float, float]]]:
        """Per page, each pop's call, SSE arrival and name drawn (page clock, ms)."""
        out = []
        for page in self.pages:
            pops = await page.evaluate("window.__pops")
            arrived = await page.evaluate("window.__arrived")
            out.append([(pop["call"], arrived[pop["call"]], pop["t"]) for pop in pops])
        return out


class StreamWatch:
    """Plain SSE readers in their own process instead of browsers (`--streams`): the
    server's part alone, as when every workstation's browser runs on its own machine."""

    def __init__(self, port: int, cookie: str, n: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.pipe, theirs = spawn.Pipe()
        self.process = spawn.Process(target=read_streams, args=(theirs, port, cookie, n))

    async def start(self) -> None:
        self.process.start()
        await asyncio.to_thread(self.pipe.recv)  # every stream is open

    async def until(self, n: int) -> None:
        while await asyncio.to_thread(self.pipe.recv) < n:
            pass

    async def clear(self) -> None:
        pass

    async def seen(self) -> list[list[tuple[str, float, float]]]:
        self.pipe.send("stop")
        got: list[list[tuple[str, float]]] = await asyncio.to_thread(self.pipe.recv)
        await asyncio.to_thread(self.process.join, 30)
        return [[(call, t, t) for call, t in stream] for stream in got]


def read_streams(pipe: Connection, port: int, cookie: str, n: int) -> None:
    """The readers' process: n connections to /pop/stream; reports, each time every
    stream has got another ring, how many rings that is; at "stop", every arrival."""
    asyncio.run(_read_streams(pipe, port, cookie, n))


async def _read_streams(pipe: Connection, port: int, cookie: str, n: int) -> None:
    got: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    opened = asyncio.Semaphore(0)
    request = (
        f"GET /pop/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: kartei_session={cookie}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()

    async def one(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        pending, is_open = b"", False
        while data := await reader.read(65536):
            t = time.time() * 1000
            if not is_open and b"retry:" in pending + data:
                is_open = True
                opened.release()
            *complete, pending = (pending + data).split(b"\n\n")
            for message in complete:
                if b'"type":"ring"' in message:
                    call = json.loads(message.split(b"data: ", 1)[1])["call"]
                    got[i].append((call, t))
                    if all(len(g) >= len(got[i]) for g in got):
                        pipe.send(len(got[i]))

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    for _ in range(n):
        await opened.acquire()
    pipe.send("open")
    await asyncio.to_thread(pipe.recv)
    for task in tasks:
        task.cancel()
    pipe.send(got)


async def calls_through(
    box: Box, watch: Watches, contacts: int, calls: int, gap: float, late_wait: bool = False
) -> list[float]:
    """Rings `calls` times, `gap` seconds after the previous hang-up (calls do not come
    back to back; the last call's projection work is done); returns each RING's time.

    The pages are asked to wait for the pop before the gap, not right after the RING:
    25 evaluations over the DevTools protocol at the moment of the ring kept Chromium's
    browser process and every renderer busy while the server committed and wrote the
    ring (`late_wait` restores that, for comparison with older figures)."""
    sent: list[float] = []
    begin = datetime.now()
    for n in range(calls):
        i = (n * 7919) % contacts
        # One second apart: the box names a call by its time and connection id.
        stamp = (begin + timedelta(seconds=n)).strftime("%d.%m.%y %H:%M:%S")
        raw = "0" + number(i)[3:]
        waiting = None if late_wait else asyncio.ensure_future(watch.until(n + 1))
        await asyncio.sleep(gap)
        sent.append(time.time() * 1000)
        await box.send(f"{stamp};RING;{n % 4};{raw};3012345;SIP0;")
        await (waiting or watch.until(n + 1))
        await box.send(f"{stamp};DISCONNECT;{n % 4};0;")
        await watch.clear()
    return sent


async def main(
    pages_n: int,
    contacts: int,
    calls: int,
    history: int,
    gap: float = 0.25,
    samples: Path | None = None,
    streams: int = 0,
    nice: int = 0,
    late_wait: bool = False,
) -> dict[str, object]:
    tmp = tempfile.mkdtemp(prefix="kartei-bench-")
    box = Box()
    port = await box.start()
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    child = spawn.Process(target=serve, args=(theirs, tmp, port, contacts, history))
    child.start()
    server: dict[str, Any] = {}
    try:
        while not await asyncio.to_thread(ours.poll, 1.0):
            if not child.is_alive():
                raise SystemExit(f"the Kartei process ended (exit code {child.exitcode})")
        ready: dict[str, Any] = ours.recv()
        await box.connected.wait()
        base = f"http://127.0.0.1:{ready['port']}"
        cookie = await login(base)
        card_ms = await card_times(base, cookie, ready["first"])
        baseline: list[float] = []
        per_page: list[list[tuple[str, float, float]]] = []
        per_stream: list[list[tuple[str, float, float]]] = []
        async with contextlib.AsyncExitStack() as stack:
            readers = StreamWatch(ready["port"], cookie, streams) if streams else None
            watch = Watches()
            if readers is not None:
                await readers.start()
                watch.watches.append(readers)
            if pages_n:
                pw = await stack.enter_async_context(async_playwright())
                browser = await pw.chromium.launch(executable_path=chromium(nice), args=ARGS)
                stack.push_async_callback(browser.close)
                pages = PageWatch(await open_pages(browser, base, cookie, pages_n))
                baseline = [await dom_round_trip(pages.pages) for _ in range(20)]
                watch.watches.append(pages)
            load_before = os.getloadavg()
            sent = await calls_through(box, watch, contacts, calls, gap, late_wait)
            load_after = os.getloadavg()
            if pages_n:
                per_page = await pages.seen()
            if readers is not None:
                per_stream = await readers.seen()
        latencies: list[float] = []
        arrivals: list[float] = []
        per_call_max: dict[int, float] = {}
        raw: list[list[float]] = []  # per page: each call's RING -> name
        seen: list[tuple[int, str, float, float]] = []  # call, stream, arrived, drawn
        for pops in per_page or per_stream:
            raw.append([round(t - sent[k], 2) for k, (_, _, t) in enumerate(pops)])
            for k, (call, arrived, drawn) in enumerate(pops):
                latencies.append(drawn - sent[k])
                arrivals.append(arrived - sent[k])
                per_call_max[k] = max(per_call_max.get(k, 0.0), drawn - sent[k])
                seen.append((k, call, arrived, drawn))
        others = [
            (k, call, arrived, arrived)
            for pops in (per_stream if per_page else [])
            for k, (call, arrived, _) in enumerate(pops)
        ]
    finally:
        if child.is_alive():
            ours.send("stop")
            if await asyncio.to_thread(ours.poll, 60):
                server = ours.recv()
        await asyncio.to_thread(child.join, 60)
        box.server.close()
    if samples is not None:
        body = json.dumps({"sent": sent, "ring_to_name_ms": raw})
        await asyncio.to_thread(samples.write_text, body)
    ring = figures(latencies)
    split = stages(sent, seen, others, server) if server else {}
    return {
        "benchmark": "screenpop",
        "pages": pages_n,
        "contacts": contacts,
        "calls": calls,
        "gap_between_calls_s": gap,
        "chromium_nice": nice,
        "pages_asked_to_wait": "after the ring" if late_wait else "before the ring",
        "samples": len(latencies),
        "ring_to_name_ms_p50": ring["p50"],
        "ring_to_name_ms_p99": ring["p99"],
        "ring_to_name_ms_max": ring["max"],
        "ring_to_sse_arrival_ms_p50": figures(arrivals)["p50"],
        "ring_to_sse_arrival_ms_p99": figures(arrivals)["p99"],
        **(
            {"ring_to_plain_reader_ms_p50_p99": _p50_p99([a - sent[k] for k, _, a, _ in others])}
            if others
            else {}
        ),
        "slowest_page_per_call_ms_p99": round(percentile(list(per_call_max.values()), 0.99), 2),
        **split,
        **(
            {
                "baseline_dom_round_trip_all_pages_ms_p50": figures(baseline)["p50"],
                "baseline_dom_round_trip_all_pages_ms_max": figures(baseline)["max"],
            }
            if baseline
            else {}
        ),
        "plain_sse_readers": streams,
        "target_p99_ms": 50,
        "card_history_entries": history,
        "card_server_ms_p50": round(statistics.median(card_ms), 2),
        "card_server_ms_max": round(max(card_ms), 2),
        "target_card_ms": 200,
        "seed_seconds": ready["seed_seconds"],
        "projection_catch_up_seconds": ready["projection_catch_up_seconds"],
        "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpus": os.cpu_count(),
        "database": "sqlite",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run, under a minute")
    parser.add_argument("--pages", type=int, help="override the number of pages")
    parser.add_argument("--contacts", type=int, help="override the number of contacts")
    parser.add_argument("--calls", type=int, help="override the number of calls")
    parser.add_argument("--samples", type=Path, help="write every latency (JSON) to this file")
    parser.add_argument(
        "--gap", type=float, default=0.25, help="seconds from a hang-up to the next ring"
    )
    parser.add_argument(
        "--streams",
        type=int,
        default=0,
        help="plain SSE readers besides the pages (--pages 0 --streams 25: the server alone)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run Chromium at this niceness (the server first, as with browsers elsewhere)",
    )
    parser.add_argument(
        "--late-wait",
        action="store_true",
        help="ask the pages to wait for a pop after the RING (before session 3: for comparison)",
    )
    args = parser.parse_args()
    sizes = [5, 2_000, 30, 500] if args.quick else [25, 100_000, 200, 5_000]
    for i, override in enumerate((args.pages, args.contacts, args.calls)):
        if override is not None:
            sizes[i] = override
    options = {"streams": args.streams, "nice": args.nice, "late_wait": args.late_wait}
    run = main(*sizes, gap=args.gap, samples=args.samples, **options)
    print(json.dumps(asyncio.run(run)))
