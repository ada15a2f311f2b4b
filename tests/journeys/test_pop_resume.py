"""The screen pop survives Kartei being killed and restarted, behind a reverse proxy.

A real `kartei run` process (killed with SIGKILL, started again on the same port), the
FRITZ!Box call monitor peer and a real Chromium page, as in an office where nginx or Caddy
stands in front of Kartei. While Kartei is down the proxy answers 502 and, while it
starts, 503. A browser's EventSource gives up for good on any answer that is not a 200
event stream (readyState CLOSED), so the page must open a new stream itself, and resume
after the last event it saw: the rings captured while it was away must pop too. Found by
bench/soak.py: each Chromium page missed about 15 captured rings around the kills.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from adapters.importers.samples import vcards
from hub.demo import customers
from tests.conftest import database_url  # noqa: F401 (fixture: both databases, here)
from tests.hub.test_cli import KARTEI, free_port
from tests.journeys.firm import monitor_line
from tests.telephony.peers import FritzBoxPeer
from tests.web.conftest import PASSWORD
from tests.web.live import CHROMIUM_ARGS

pytestmark = pytest.mark.slow

CUSTOMER = customers(1, seed=16)[0][1]  # a known caller: the pop comes as name, then card
# Console errors the outage itself causes in Chromium (the failed requests of the stream),
# as against errors of the page's own code.
OUTAGE = re.compile(r"Failed to load resource|EventSource's response has")


class Proxy:
    """A reverse proxy at the TCP level: passes each connection through to Kartei; answers
    502 while Kartei accepts none (killed, not yet listening) and 503 while `starting`
    (what a proxy or Kartei itself answers before it can serve)."""

    def __init__(self, backend_port: int) -> None:
        self.backend_port = backend_port
        self.starting = False
        self.refused: list[int] = []  # statuses answered in Kartei's place
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in self.tasks:
            task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.starting:
            await self._answer(reader, writer, 503, "Service Unavailable")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        except OSError:
            await self._answer(reader, writer, 502, "Bad Gateway")
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, text: str
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the request first: closing on it resets
        self.refused.append(status)
        body = f"{status} {text}\n".encode()
        head = (
            f"HTTP/1.1 {status} {text}\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction until it ends, then ends the other side's writing too."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


class Server:
    """A data directory and its `kartei run` process, which can be killed and started again
    on the same port."""

    def __init__(self, tmp_path: Path, url: str, box_port: int) -> None:
        folder = tmp_path / "firma"
        subprocess.run([*KARTEI, "init", str(folder)], check=True, capture_output=True)
        self.config = folder / "kartei.toml"
        self.port = free_port()
        text = self.config.read_text().replace("port = 8080", f"port = {self.port}")
        if not url.startswith("sqlite"):
            text = text.replace("[database]\n", f'[database]\nurl = "{url}"\n', 1)
        text += (
            f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {box_port}\n'
        )
        self.config.write_text(text)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "kartei.log"
        self.process: subprocess.Popen[bytes] | None = None
        cards = tmp_path / "kunden.vcf"
        cards.write_bytes(vcards([("kunde", CUSTOMER)]))
        self.cli("import", str(cards))
        self.cli("users", "add", "anna", "--password-stdin", stdin=f"{PASSWORD}\n".encode())
        self.token = self.cli("users", "token", "anna").split()[-1]

    def cli(self, *args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            [*KARTEI, *args, "--config", str(self.config)],
            input=stdin,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*KARTEI, "run", "--config", str(self.config)],
                stdout=out,
                stderr=out,
                start_new_session=True,  # its own process group: SIGKILL takes its workers
            )

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    async def healthy(self, seconds: float = 120) -> None:
        async with asyncio.timeout(seconds), httpx.AsyncClient(base_url=self.base) as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz", timeout=5)).status_code == 200:
                        return
                await asyncio.sleep(0.2)

    async def captured(self, *numbers: str, seconds: float = 60) -> None:
        """Waits until the calls from these numbers are in the call list."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            asyncio.timeout(seconds),
            httpx.AsyncClient(base_url=self.base, headers=headers) as http,
        ):
            while True:
                text = re.sub(r"\D", "", (await http.get("/api/calls?days=1")).text)
                if all(number[1:] in text for number in numbers):
                    return
                await asyncio.sleep(0.2)


@contextlib.contextmanager
def serving(tmp_path: Path, url: str, box_port: int) -> Iterator[Server]:
    server = Server(tmp_path, url, box_port)
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def proxied(port: int) -> AsyncIterator[Proxy]:
    proxy = Proxy(port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@dataclass
class Desk:
    """A staff member's Chromium page on the dashboard, and what went wrong in it."""

    page: Page
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def pops(self) -> Locator:
        return self.page.locator("#pops .pop")

    async def numbers(self) -> list[str]:
        """The callers' numbers on the pops, as digits."""
        shown = await self.pops.locator(".pop-number").all_inner_texts()
        return sorted(re.sub(r"\D", "", n) for n in shown)


async def signed_in(chromium: Browser, base: str) -> Desk:
    """A new page, signed in, on the dashboard with the pop's stream open."""
    desk = Desk(await (await chromium.new_context(locale="de-DE")).new_page())
    desk.page.on("pageerror", lambda e: desk.page_errors.append(str(e)))
    desk.page.on(
        "console",
        lambda m: desk.console_errors.append(m.text) if m.type == "error" else None,
    )
    await desk.page.goto(f"{base}/login")
    await desk.page.fill("input[name=username]", "anna")
    await desk.page.fill("input[name=password]", PASSWORD)
    await desk.page.click("button[type=submit]")
    await desk.page.wait_for_url(f"{base}/")
    await desk.page.wait_for_selector("body[data-pop=connected]", state="attached")
    await desk.page.evaluate("window.sameDocument = true")  # gone if the page reloads
    return desk


async def ring(peer: FritzBoxPeer, call_id: int, number: str) -> None:
    """A call from `number` rings at the office line (the FRITZ!Box writes RING)."""
    await peer.send([monitor_line(datetime.now(UTC), "RING", call_id, number, "3012345", "SIP0")])


async def test_every_ring_pops_after_kartei_was_killed_and_restarted(
    database_url: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    known = "0" + CUSTOMER["phones"][0].number.removeprefix("+49")
    strangers = ["030555111", "030555222"]
    peer = FritzBoxPeer()
    await peer.start()
    try:
        with serving(tmp_path, database_url, peer.port) as kartei:
            kartei.start()
            await kartei.healthy()
            await peer.wait_connections(1)
            async with proxied(kartei.port) as proxy, async_playwright() as pw:
                chromium = await pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                base = f"http://127.0.0.1:{proxy.port}"
                # One page has shown a pop before the kill, the other none yet (it knows
                # where its stream began only from the stream's opening).
                first = await signed_in(chromium, base)
                await ring(peer, 1, strangers[0])
                await expect(first.pops).to_have_count(1, timeout=10_000)
                second = await signed_in(chromium, base)

                # Killed: the streams break, the proxy answers 502 to their reconnects.
                kartei.kill()
                async with asyncio.timeout(30):
                    while proxy.refused.count(502) < 2:  # noqa: ASYNC110 (poll, timeout)
                        await asyncio.sleep(0.1)
                # Started again; while it starts the proxy answers 503, and calls come in.
                proxy.starting = True
                kartei.start()
                await kartei.healthy()
                await peer.wait_connections(2)
                await ring(peer, 2, known)
                await ring(peer, 3, strangers[1])
                await kartei.captured(known, strangers[1])
                proxy.starting = False
                back = time.monotonic()

                # Every ring captured while a page was away pops there, once, without a
                # reload; the known caller by name.
                await expect(first.pops).to_have_count(3, timeout=20_000)
                await expect(second.pops).to_have_count(2, timeout=20_000)
                seconds = time.monotonic() - back
                assert await first.numbers() == sorted([*strangers, known])
                assert await second.numbers() == sorted([known, strangers[1]])
                for desk in (first, second):
                    await expect(desk.pops.filter(has_text=CUSTOMER["company"])).to_have_count(1)
                    assert await desk.page.evaluate("window.sameDocument") is True
                    assert await desk.page.get_attribute("#pops", "aria-live") == "polite"
                    assert desk.page_errors == []
                    assert [m for m in desk.console_errors if not OUTAGE.search(m)] == []
                assert seconds < 15, f"the pops came {seconds:.1f} s after Kartei was back"
                await chromium.close()
    finally:
        await peer.close()
