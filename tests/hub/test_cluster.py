"""Three `kartei run` processes on one PostgreSQL: two capture, one web.

The owner of a mailbox (the real Dovecot) and of a FRITZ!Box call monitor (the protocol
peer from tests/telephony; no real box can run here) is killed with SIGKILL while mail
keeps arriving. The other capture process takes both over within the configured time;
every message and call is in the store exactly once, and a client connected to the web
process (which captures nothing itself) receives the pop of every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest

from tests.conftest import new_pg_schema
from tests.hub.test_cli import free_port, kartei
from tests.mail.conftest import imap_login
from tests.mail.dovecot import Dovecot
from tests.mail.messages import simple
from tests.telephony.peers import FritzBoxPeer

pytestmark = pytest.mark.slow

TAKEOVER_SECONDS = 3


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


def configure(data: Path, url: str, dovecot: Dovecot, user: str, peer: int, web: int) -> Path:
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    text = config.read_text()
    for old, new in (
        ("[database]\n", f'[database]\nurl = "{url}"\n'),
        ("takeover_seconds = 30", f"takeover_seconds = {TAKEOVER_SECONDS}"),
        ("port = 8080", f"port = {web}"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    head, _, classifier = text.partition("[classifier]\n")  # no model needed here
    text = head + "[classifier]\n" + classifier.replace("enabled = true", "enabled = false", 1)
    text += (
        f'\n[[mail.imap]]\nname = "{user}"\nhost = "127.0.0.1"\nport = {dovecot.port}\n'
        f'security = "none"\nusername = "{user}"\npassword = "{Dovecot.PASSWORD}"\n'
        "idle_seconds = 10\npoll_seconds = 5\n"
        f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {peer}\n'
    )
    config.write_text(text)
    return config


def api_token(config: Path) -> str:
    """A staff account and an API token for the pops."""
    arguments = ["users", "add", "anna", "--password-stdin", "--config", str(config)]
    made = subprocess.run(
        [sys.executable, "-m", "hub.cli", *arguments],
        input="geheim-geheim\n",
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return kartei("users", "token", "anna", "--config", str(config)).stdout.split()[-1]


class Cluster:
    def __init__(self, config: Path, url: str) -> None:
        self.config = config
        self.url = url
        self.processes: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, *roles: str) -> None:
        arguments = [a for role in roles for a in ("--role", role)]
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "run", *arguments, "--config", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def owners(self) -> dict[str, int]:
        """Lease -> the process id of its valid owner."""
        with psycopg.connect(self.url) as conn:
            try:
                rows = conn.execute(
                    "SELECT name, owner FROM leases WHERE expires_at > %s", (time.time(),)
                ).fetchall()
            except psycopg.errors.UndefinedTable:  # not migrated yet
                return {}
        return {name: int(owner.split(":")[1]) for name, owner in rows}

    def count(self, type_name: str) -> tuple[int, int]:
        """How many events of a type, and how many distinct idempotency keys among them."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT idempotency_key) FROM events WHERE type = %s",
                (type_name,),
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def stop(self) -> dict[str, str]:
        """Stops every process; what each wrote to stderr."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        errors = {}
        for name, process in self.processes.items():
            try:
                errors[name] = process.communicate(timeout=30)[1]
            except subprocess.TimeoutExpired:
                process.kill()
                errors[name] = process.communicate()[1]
        return errors


async def until(check, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def pops(base: str, token: str) -> AsyncIterator[list[dict[str, object]]]:
    """Collects the web process's pops (server-sent events) while the block runs."""
    seen: list[dict[str, object]] = []

    async def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx.AsyncClient(base_url=base, timeout=None) as http,
            http.stream("GET", "/pop/stream", headers=headers) as response,
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    seen.append(orjson.loads(line[6:]))

    task = asyncio.create_task(read())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def ring(n: int) -> list[str]:
    return [
        f"02.03.26 10:{n:02d}:00;RING;{n};5551{n:02d};3012345;SIP0;",
        f"02.03.26 10:{n:02d}:09;DISCONNECT;{n};0;",
    ]


async def test_kill_the_owner_of_a_mailbox_and_a_call_monitor(
    dovecot: Dovecot, pg_database: str, tmp_path: Path
) -> None:
    user = dovecot.take_user()
    url = new_pg_schema(pg_database)
    peer = FritzBoxPeer()
    await peer.start()
    web = free_port()
    config = configure(tmp_path / "firma", url, dovecot, user, peer.port, web)
    token = api_token(config)
    cluster = Cluster(config, url)
    imap = imap_login(dovecot, user)
    mailbox, line = f"adapter:imap:{user}", "adapter:office"
    try:
        cluster.start("a", "capture", "workers")
        await until(lambda: {mailbox, line} <= cluster.owners().keys())
        first = cluster.processes["a"].pid
        assert cluster.owners()[mailbox] == cluster.owners()[line] == first
        cluster.start("b", "capture", "workers")
        cluster.start("web", "web")
        base = f"http://127.0.0.1:{web}"
        await until(lambda: _answers(base))
        async with pops(base, token) as seen:
            await asyncio.sleep(1)  # the stream is open
            for n in range(1, 6):
                imap.append("INBOX", simple(n))
            await peer.wait_connections(1)
            for n in range(1, 4):
                await peer.send(ring(n))
            await until(lambda: cluster.count("EmailReceived")[0] == 5)
            await until(lambda: cluster.count("CallRinging")[0] == 3)

            os.kill(first, signal.SIGKILL)
            killed = time.monotonic()
            for n in range(6, 11):  # mail goes on arriving while nobody owns the mailbox
                imap.append("INBOX", simple(n))
            second = cluster.processes["b"].pid
            await until(lambda: cluster.owners().get(mailbox) == second)
            await until(lambda: cluster.owners().get(line) == second)
            takeover = time.monotonic() - killed
            await peer.wait_connections(2)
            for n in range(4, 7):
                await peer.send(ring(n))
            await until(lambda: cluster.count("EmailReceived")[0] >= 10)
            await until(lambda: cluster.count("CallRinging")[0] >= 6)
            await until(lambda: len([p for p in seen if p.get("type") == "ring"]) >= 6, 20)
        await asyncio.sleep(1)  # anything doubled would have arrived by now
        assert cluster.count("EmailReceived") == (10, 10)
        assert cluster.count("CallRinging") == (6, 6)
        rings = sorted({str(p["call"]) for p in seen if p.get("type") == "ring"})
        assert len(rings) == 6 == len([p for p in seen if p.get("type") == "ring"])
        assert takeover < TAKEOVER_SECONDS + 5, takeover  # + a slow start of the IMAP sync
    finally:
        imap.logout()
        errors = cluster.stop()
        await peer.close()
    for name in ("b", "web"):
        assert "ProjectionConflictError" not in errors[name] and "Traceback" not in errors[name]


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 503)
    except httpx.TransportError:
        return False
