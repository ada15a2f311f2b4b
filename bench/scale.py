"""Several Kartei processes on one PostgreSQL: pops through 1, 2 and 4 web processes, and
the takeover after SIGKILL of the process that owns the call monitor.

Each Kartei is a real `kartei run` child process: one `--role capture --role workers`
owns the FRITZ!Box call monitor (this process plays the box: a TCP server writing the
call monitor's line format) and the read models; N `--role web` processes serve the pops.
SSE clients (plain HTTP streams, spread over the web processes) receive every ring. For
each ring: the wall clock just before the RING line is written, and when each client got
its pop; p50/p99 over every client and ring, and the pops per second delivered to all
(bounded by the rate offered: one ring every 50 ms to every client).
The one-web-process round is the baseline the others are compared with (`vs_1`).

Takeover: a second capture process stands by; the owner is killed with SIGKILL; the time
until the standby holds the line's lease, and until a ring written after the kill is in
the store.

    python bench/scale.py            # 1, 2, 4 web processes, 25 clients, 100 rings
    python bench/scale.py --quick    # 1, 2 web processes, 10 clients, 20 rings

PostgreSQL at 127.0.0.1:5432 (trust) or $KARTEI_BENCH_PG; a database of its own, dropped
at the end. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy.engine import make_url

ADMIN = os.environ.get("KARTEI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TAKEOVER_SECONDS = 3
RING_SPACING_SECONDS = 0.05  # one ring every 50 ms: 20 calls a second, far above an office
KARTEI = [sys.executable, "-m", "hub.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Box:
    """The FRITZ!Box call monitor: writes lines to the newest connection."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.connected = asyncio.Event()

    async def start(self) -> int:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)
            self.connected.set()
            # Until the client goes; closing the server at the end cancels it.
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await reader.read()

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        self.server.close()
        await self.server.wait_closed()

    async def ring(self, n: int) -> float:
        """RING then DISCONNECT of call `n`; the wall clock just before the RING."""
        stamp = time.strftime("%d.%m.%y %H:%M:%S")
        writer = self.writers[-1]
        sent = time.time()
        writer.write(f"{stamp};RING;{n};0301234{n:04d};3012345;SIP0;\r\n".encode())
        writer.write(f"{stamp};DISCONNECT;{n};0;\r\n".encode())
        await writer.drain()
        return sent


class Deployment:
    """A data directory on a fresh PostgreSQL database, and its `kartei run` processes."""

    def __init__(self, folder: Path, box_port: int) -> None:
        self.database = f"kartei_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.url = make_url(ADMIN).set(database=self.database).render_as_string(False)
        subprocess.run([*KARTEI, "init", str(folder)], check=True, capture_output=True)
        self.config = folder / "kartei.toml"
        text = self.config.read_text()
        text = text.replace("[database]\n", f'[database]\nurl = "{self.url}"\n', 1)
        text = text.replace("takeover_seconds = 30", f"takeover_seconds = {TAKEOVER_SECONDS}")
        head, _, rest = text.partition("[classifier]\n")
        text = head + "[classifier]\n" + rest.replace("enabled = true", "enabled = false", 1)
        text += (
            f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {box_port}\n'
        )
        self.config.write_text(text)
        self.processes: list[subprocess.Popen[bytes]] = []

    def token(self) -> str:
        add = [*KARTEI, "users", "add", "bench", "--password-stdin", "--config", str(self.config)]
        subprocess.run(add, input=b"bench-bench\n", check=True, capture_output=True)
        made = subprocess.run(
            [*KARTEI, "users", "token", "bench", "--config", str(self.config)],
            check=True,
            capture_output=True,
            text=True,
        )
        return made.stdout.split()[-1]

    def start(self, *roles: str, port: int | None = None) -> subprocess.Popen[bytes]:
        config = self.config
        if port is not None:  # a web process of its own on this port
            config = self.config.with_name(f"web-{port}.toml")
            config.write_text(self.config.read_text().replace("port = 8080", f"port = {port}"))
        arguments = [a for role in roles for a in ("--role", role)]
        process = subprocess.Popen(
            [*KARTEI, "run", *arguments, "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    def query(self, sql: str, *args: object) -> list[Any]:
        with psycopg.connect(self.url) as conn:
            try:
                return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]
            except psycopg.errors.UndefinedTable:
                return []

    def owner_pid(self, lease: str) -> int | None:
        rows = self.query(
            "SELECT owner FROM leases WHERE name = %s AND expires_at > %s", lease, time.time()
        )
        return int(rows[0][0].split(":")[1]) if rows else None

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


async def until(check: Any, seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.05)


async def answering(base: str) -> None:
    async with asyncio.timeout(60), httpx.AsyncClient() as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{base}/healthz", timeout=1)).status_code in (200, 503):
                    return
            await asyncio.sleep(0.1)


async def listen(base: str, token: str, arrivals: dict[str, float], ready: asyncio.Event) -> None:
    """One SSE client: the arrival time of each ring's first pop message, by call."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as http,
        http.stream("GET", "/pop/stream", headers=headers) as response,
    ):
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                pop = orjson.loads(line[6:])
                if pop.get("type") == "ring":
                    arrivals.setdefault(str(pop["call"]).rsplit("-", 2)[-2], time.time())


async def pops_round(
    deployment: Deployment, box: Box, token: str, webs: int, clients: int, rings: int
) -> dict[str, float]:
    ports = [free_port() for _ in range(webs)]
    processes = [deployment.start("web", port=port) for port in ports]
    try:
        await asyncio.gather(*(answering(f"http://127.0.0.1:{p}") for p in ports))
        arrivals: list[dict[str, float]] = [{} for _ in range(clients)]
        readies = [asyncio.Event() for _ in range(clients)]
        tasks = [
            asyncio.create_task(
                listen(f"http://127.0.0.1:{ports[i % webs]}", token, arrivals[i], readies[i])
            )
            for i in range(clients)
        ]
        await asyncio.gather(*(r.wait() for r in readies))
        await asyncio.sleep(0.5)
        base = int(time.time()) % 1000 * 10  # call ids of this round
        sent = {}
        for k in range(rings):
            sent[str(base + k)] = await box.ring(base + k)
            await asyncio.sleep(RING_SPACING_SECONDS)
        with contextlib.suppress(TimeoutError):
            await until(lambda: all(len(a) >= rings for a in arrivals), 30)
        for task in tasks:
            task.cancel()
        samples = [
            (got[call] - at) * 1000 for got in arrivals for call, at in sent.items() if call in got
        ]
        last = max((t for got in arrivals for t in got.values()), default=time.time())
        return {
            "p50_ms": round(statistics.median(samples), 2) if samples else -1,
            "p99_ms": round(percentile(samples, 0.99), 2) if samples else -1,
            "delivered": len(samples),
            "expected": rings * clients,
            "pops_per_s": round(len(samples) / max(last - min(sent.values()), 1e-9), 1),
            "offered_per_s": round(clients / RING_SPACING_SECONDS, 1),
        }
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


async def takeover(deployment: Deployment, box: Box, owner: subprocess.Popen[bytes]) -> dict:
    port = free_port()  # the spare serves its health, to say when it stands by
    spare = deployment.start("capture", "workers", "web", port=port)
    lease = "adapter:office"
    async with httpx.AsyncClient() as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                health = (await http.get(f"http://127.0.0.1:{port}/healthz", timeout=1)).json()
                if health["components"].get(lease, {}).get("state") == "standby":
                    break
            await asyncio.sleep(0.1)
    connections = len(box.writers)
    os.kill(owner.pid, signal.SIGKILL)
    killed = time.monotonic()
    await until(lambda: deployment.owner_pid(lease) == spare.pid)
    leased = time.monotonic() - killed
    await until(lambda: len(box.writers) > connections)
    await box.ring(9999)
    stream = "%-9999-%"
    sql = "SELECT 1 FROM events WHERE type = 'CallRinging' AND stream LIKE %s"
    await until(lambda: deployment.query(sql, stream) != [])
    return {"lease_s": round(leased, 2), "ring_recorded_s": round(time.monotonic() - killed, 2)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(quick: bool) -> dict[str, Any]:
    webs, clients, rings = ((1, 2), 10, 20) if quick else ((1, 2, 4), 25, 100)
    box = Box()
    box_port = await box.start()
    with tempfile.TemporaryDirectory() as folder:
        deployment = Deployment(Path(folder) / "kartei", box_port)
        try:
            token = deployment.token()
            owner = deployment.start("capture", "workers")
            async with asyncio.timeout(60):
                await box.connected.wait()
            await until(lambda: deployment.owner_pid("projection:calls") == owner.pid)
            pops = {}
            for n in webs:
                pops[str(n)] = await pops_round(deployment, box, token, n, clients, rings)
                print(f"{n} web process(es): {pops[str(n)]}", file=sys.stderr)
            for n in webs[1:]:
                pops[str(n)]["vs_1"] = round(pops[str(n)]["p99_ms"] / pops["1"]["p99_ms"], 2)
            taken = await takeover(deployment, box, owner)
        finally:
            deployment.close()
            await box.close()
    lost = sum(p["expected"] - p["delivered"] for p in pops.values())
    return {
        "clients": clients,
        "rings": rings,
        "pops": pops,
        "takeover": taken,
        "takeover_seconds_configured": TAKEOVER_SECONDS,
        "lost_pops": lost,
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="under a minute")
    figures = asyncio.run(main(parser.parse_args().quick))
    print(json.dumps(figures))
