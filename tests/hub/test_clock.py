"""The clock jumping under real `kartei run` processes (libfaketime, Debian `faketime`).

A process's wall clock is stepped by an hour forward and back while mail and calls arrive
(as NTP stepping a wrong clock, or someone setting the time by hand, would). Its monotonic
clock is left alone, as a real step leaves it. No lease changes hands while its holder runs
(a takeover beside a live holder means two processes capture one mailbox until the next
renewal), every message and call is stored exactly once, positions have no gaps, and no
process logs a traceback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import new_pg_schema
from tests.hub.test_cli import free_port
from tests.hub.test_cluster import Cluster, configure, ring, until
from tests.mail.conftest import imap_login
from tests.mail.dovecot import Dovecot
from tests.mail.messages import simple
from tests.telephony.peers import FritzBoxPeer

pytestmark = pytest.mark.slow

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
HOUR = 3600
KARTEI_RUN = [sys.executable, "-m", "hub.cli", "run", "--config"]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if not LIBFAKETIME.exists():
        pytest.skip("libfaketime is not installed (Debian package faketime)")
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


class Clock:
    """The offset of a faked process's wall clock, changed while it runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.set(0)

    def set(self, seconds: int) -> None:
        self.path.write_text(f"{seconds:+d}\n")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }


def start(cluster: Cluster, name: str, clock: Clock | None = None) -> int:
    cluster.processes[name] = subprocess.Popen(
        [*KARTEI_RUN, str(cluster.config), "--role", "capture", "--role", "workers"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=clock.env() if clock else None,
    )
    return cluster.processes[name].pid


def pg_owners(url: str) -> dict[str, int]:
    """Lease -> the process id in its row, valid or not."""
    with psycopg.connect(url) as conn:
        try:
            rows = conn.execute("SELECT name, owner FROM leases").fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
    return {name: int(owner.split(":")[1]) for name, owner in rows}


async def steady(owners, seconds: float) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Samples the lease table for `seconds`; every lease keeps its holder throughout."""
    first = owners()
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        now = owners()
        assert {k: now.get(k) for k in first} == first, (first, now)
        await asyncio.sleep(0.1)
    return first


def gap_free(positions: list[int]) -> None:
    assert positions == list(range(positions[0], positions[0] + len(positions))), positions


async def test_a_clock_stepped_an_hour_forward_and_back_takes_no_held_lease(
    dovecot: Dovecot, pg_database: str, tmp_path: Path
) -> None:
    user = dovecot.take_user()
    url = new_pg_schema(pg_database)
    peer = FritzBoxPeer()
    await peer.start()
    config = configure(tmp_path / "firma", url, dovecot, user, peer.port, free_port())
    cluster = Cluster(config, url)
    clock = Clock(tmp_path / "offset")
    imap = imap_login(dovecot, user)
    mailbox, line = f"adapter:imap:{user}", "adapter:office"
    mails = calls = 0

    async def traffic(n: int) -> None:
        nonlocal mails, calls
        for _ in range(n):
            mails += 1
            imap.append("INBOX", simple(mails))
        for _ in range(n):
            calls += 1
            await peer.send(ring(calls))

    try:
        a = start(cluster, "a")
        await until(lambda: {mailbox, line} <= cluster.owners().keys())
        await peer.wait_connections(1)
        b = start(cluster, "b", clock)
        await traffic(2)
        await asyncio.sleep(2)  # b is up, looking for free leases
        clock.set(+HOUR)  # b's clock runs ahead: a's leases look an hour expired to it
        held = await steady(lambda: pg_owners(url), 5)
        assert held[mailbox] == held[line] == held["scheduler"] == a  # timed jobs: in a only
        await traffic(2)
        # A call monitor's lines still in the socket when its reader stops are gone (the
        # box does not replay): a leaves once it has taken what was sent to it.
        await until(lambda: cluster.count("CallRinging")[0] >= calls)

        cluster.processes["a"].send_signal(signal.SIGTERM)  # a leaves; b takes over
        # The leases are taken one by one (the scheduler's may come after the adapters').
        await until(lambda: {pg_owners(url).get(k) for k in (mailbox, line, "scheduler")} == {b})
        await peer.wait_connections(2)
        start(cluster, "c")
        await traffic(2)
        clock.set(-HOUR)  # b's clock steps back: its renewals must not look expired to c
        held = await steady(lambda: pg_owners(url), 5)
        assert held[mailbox] == held[line] == held["scheduler"] == b
        await traffic(2)
        clock.set(0)
        await until(lambda: cluster.count("EmailReceived")[0] >= mails)
        await until(lambda: cluster.count("CallRinging")[0] >= calls)
        await asyncio.sleep(1)  # anything doubled would have arrived by now
        assert cluster.count("EmailReceived") == (mails, mails)
        assert cluster.count("CallRinging") == (calls, calls)
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT position FROM events ORDER BY position").fetchall()
        gap_free([int(row[0]) for row in rows])
    finally:
        imap.logout()
        errors = cluster.stop()
        await peer.close()
    for name, text in errors.items():
        assert "LeaseLost" not in text and "ProjectionConflictError" not in text, (name, text)
    for name in ("b", "c"):  # a, first on a new schema, may race its own table creation
        assert "Traceback" not in errors[name], errors[name]


async def test_one_process_on_sqlite_whose_clock_steps_back_during_capture(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    user = dovecot.take_user()
    peer = FritzBoxPeer()
    await peer.start()
    data = tmp_path / "firma"
    config = configure(data, "", dovecot, user, peer.port, free_port())
    cluster = Cluster(config, "")
    clock = Clock(tmp_path / "offset")
    imap = imap_login(dovecot, user)
    mailbox = f"adapter:imap:{user}"
    databases: list[Path] = []

    def query(sql: str) -> list[tuple[object, ...]]:
        if not databases:
            databases.extend(p for p in data.rglob("*.db") if p.stat().st_size)
            if not databases:
                return []
        with sqlite3.connect(databases[0], timeout=10) as conn:
            try:
                return conn.execute(sql).fetchall()
            except sqlite3.OperationalError:  # not migrated yet
                return []

    def count(type_name: str) -> int:
        rows = query(f"SELECT count(*) FROM events WHERE type = '{type_name}'")
        return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]

    try:
        start(cluster, "a", clock)
        await until(lambda: any(row[0] == mailbox for row in query("SELECT name FROM leases")))
        await peer.wait_connections(1)
        for n in range(1, 4):
            imap.append("INBOX", simple(n))
            await peer.send(ring(n))
        await until(lambda: count("EmailReceived") >= 3 and count("CallRinging") >= 3)
        clock.set(-HOUR)  # during capture: mail and calls keep arriving
        for n in range(4, 10):
            imap.append("INBOX", simple(n))
            await peer.send(ring(n))
            await asyncio.sleep(0.1)
        await until(lambda: count("EmailReceived") >= 9 and count("CallRinging") >= 9)
        await asyncio.sleep(1)
        assert count("EmailReceived") == count("CallRinging") == 9
        keys = query(
            "SELECT count(DISTINCT idempotency_key) FROM events WHERE type = 'EmailReceived'"
        )
        assert keys[0][0] == 9
        gap_free([int(row[0]) for row in query("SELECT position FROM events ORDER BY position")])  # type: ignore[call-overload]
        assert cluster.processes["a"].poll() is None  # still running
    finally:
        imap.logout()
        errors = cluster.stop()
        await peer.close()
    assert "Traceback" not in errors["a"], errors["a"]
