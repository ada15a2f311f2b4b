"""A PostgreSQL server restarted (and stopped a moment) under requests: every answer is
200 or 503 with Retry-After (a page in the user's language, JSON for the API), never a
500, and once the server is back every request works again without restarting Kartei.
Found by bench/soak.py, which restarts PostgreSQL under load (issue 16)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from hub.store import Database, EventStore
from tests.hub.test_cli import free_port
from tests.web.conftest import PASSWORD, Web, login, make_web

PATHS = ("/api/calls?days=1", "/api/contacts?q=Muster", "/api/tasks?scope=team", "/", "/calls")
PAGE = {"accept": "text/html"}


class PrivatePostgres:
    """A PostgreSQL server of this test's own, so that it can be stopped and restarted."""

    def __init__(self, root: Path) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql")
        self.bin, self.root = found[-1].parent, root
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*runner, *command], check=True, capture_output=True, timeout=120)

    def ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-o", options,
            "-l", str(self.root / "log"), "-m", "fast", "-w", action,
        )  # fmt: skip

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        data = str(self.root / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "postgres")
        self.ctl("start")


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    # Not under pytest's tmp_path: the server runs as the postgres user, who cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="kartei-test-pg-"))
    server = PrivatePostgres(root)
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.ctl("stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def web_on_private_pg(private_pg: PrivatePostgres, tmp_path: Path) -> AsyncIterator[Web]:
    store = EventStore(Database(private_pg.url))
    await store.start()
    web = await make_web(store, tmp_path)
    yield web
    await web.app.state.pop.close()
    await store.close()


async def ask(http: httpx.AsyncClient, path: str, seen: Counter[str], bad: list[str]) -> None:
    """One request as a browser page and as the API; anything but 200/503 is noted."""
    reply = await http.get(path, headers=PAGE if not path.startswith("/api") else {})
    seen[str(reply.status_code)] += 1
    if reply.status_code == 200:
        return
    if reply.status_code != 503 or reply.headers.get("retry-after") != "5":
        bad.append(f"{path}: {reply.status_code} {reply.text[:200]!r}")
    elif path.startswith("/api"):
        if reply.json() != {"detail": "Database unavailable"}:
            bad.append(f"{path}: 503 body {reply.text[:200]!r}")
    elif "Vorübergehend nicht erreichbar" not in reply.text:
        bad.append(f"{path}: 503 page {reply.text[:200]!r}")


async def hammer(http: httpx.AsyncClient, until: asyncio.Event, seen: Counter[str]) -> list[str]:
    """Requests from several sessions' worth of tasks until told to stop."""
    bad: list[str] = []

    async def one(i: int) -> None:
        while not until.is_set():
            await ask(http, PATHS[i % len(PATHS)], seen, bad)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(one(i) for i in range(8)))
    return bad


async def test_a_restarting_postgresql_is_503_never_500(
    web_on_private_pg: Web, private_pg: PrivatePostgres
) -> None:
    web = web_on_private_pg
    await web.accounts.add("anna", PASSWORD)
    # Starlette raises the exception on after answering (for the log): keep the answer.
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as http:
        await login(http, "anna")
        seen: Counter[str] = Counter()
        until = asyncio.Event()
        load = asyncio.create_task(hammer(http, until, seen))
        await asyncio.sleep(0.5)
        began = time.monotonic()
        await asyncio.to_thread(private_pg.ctl, "restart")
        await asyncio.sleep(0.5)
        await asyncio.to_thread(private_pg.ctl, "stop")  # down a while: every try refused
        await asyncio.sleep(1.0)
        await asyncio.to_thread(private_pg.ctl, "start")
        await asyncio.sleep(1.0)
        until.set()
        bad = await load
        assert not bad, (seen, bad[:5])
        assert seen["503"] > 0, seen  # the outage was seen, and answered as one
        assert time.monotonic() - began < 60
        # Back: every path answers 200 again, with no restart of Kartei.
        for path in PATHS:
            reply = await http.get(path, headers=PAGE if not path.startswith("/api") else {})
            assert reply.status_code == 200, (path, reply.status_code)


def server_processes(server: PrivatePostgres) -> list[int]:
    """The postmaster and its children (backends, checkpointer, ...)."""
    postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True
    ).stdout.split()
    return [postmaster, *map(int, children)]


async def test_a_server_that_stops_answering_is_503_once_the_pool_gives_up(
    web_on_private_pg: Web, private_pg: PrivatePostgres
) -> None:
    """The server hangs (its processes stopped, as on a stuck disk or a paused VM): the
    requests that got a connection wait, the others wait for the pool and give up after
    its 30 s; they are told to try again (503), not that Kartei failed (500)."""
    web = web_on_private_pg
    await web.accounts.add("anna", PASSWORD)
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://kartei.test", timeout=None
    ) as http:
        await login(http, "anna")
        frozen = server_processes(private_pg)
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            # More requests than the pool has connections (5 and 5 overflow).
            asked = [
                asyncio.create_task(
                    http.get(path, headers=PAGE if not path.startswith("/api") else {})
                )
                for path in PATHS * 3
            ]
            done, waiting = await asyncio.wait(asked, timeout=45)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        answers = [task.result() for task in done] + list(await asyncio.gather(*waiting))
    statuses = Counter(reply.status_code for reply in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0, statuses
    for reply in answers:
        if reply.status_code == 503:
            assert reply.headers["retry-after"] == "5"
            page = reply.headers["content-type"].startswith("text/html")
            assert page or reply.json() == {"detail": "Database unavailable"}


async def test_a_lost_database_inside_a_task_group_or_a_raw_driver_error_is_503(
    web: Web,
) -> None:
    """The driver's error reaches a route unwrapped (a psycopg connection of its own) or
    inside a task group's ExceptionGroup: still the database away, still 503."""

    async def connect() -> None:
        dead = f"postgresql://kartei@127.0.0.1:{free_port()}/k"
        await psycopg.AsyncConnection.connect(dead, connect_timeout=5)

    async def in_a_group() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(connect())

    web.app.add_api_route("/api/raw", connect)
    web.app.add_api_route("/api/group", in_a_group)
    web.app.add_api_route("/group", in_a_group)
    await web.accounts.add("anna", PASSWORD)
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as http:
        await login(http, "anna")
        for path in ("/api/raw", "/api/group"):
            reply = await http.get(path)
            assert reply.status_code == 503 and reply.headers["retry-after"] == "5", path
        page = await http.get("/group", headers=PAGE)
        assert page.status_code == 503 and "Vorübergehend nicht erreichbar" in page.text
