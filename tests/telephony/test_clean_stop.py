"""A clean stop (SIGTERM) of `kartei run` keeps the call-monitor lines it has received.

A FRITZ!Box does not replay its call monitor: a RING that reached Kartei's socket but was
not yet processed when the stop came is a call nobody will ever see. The box (the
protocol peer) sends a RING line, and the process is told to stop in the same instant;
once it has exited, the call is in the store. Several rounds, restarting the process on
the same data, since which of the two the event loop sees first is up to the kernel.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hub.test_fresh_start import configure
from tests.telephony.peers import FritzBoxPeer

pytestmark = pytest.mark.slow

ROUNDS = 4


def ringing(n: int) -> bytes:
    return f"02.03.26 10:{n:02d}:00;RING;{n};5551{n:02d};3012345;SIP0;\r\n".encode()


def launch(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def exited(process: subprocess.Popen[str]) -> str:
    """What the process wrote to stderr, once it has exited."""
    return process.communicate(timeout=60)[1]


async def connected(peer: FritzBoxPeer, count: int) -> asyncio.StreamWriter:
    """The `count`-th connection to the box; a process starts slowly on a loaded machine."""
    async with asyncio.timeout(60):
        while len(peer.writers) < count:  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.05)
    return peer.writers[count - 1]


def rung(data: Path) -> int:
    """How many calls rang, as the store says (the process has exited)."""
    [database] = [p for p in data.rglob("*.db") if p.stat().st_size]
    with sqlite3.connect(database) as conn:
        [(count,)] = conn.execute("SELECT count(*) FROM events WHERE type = 'CallRinging'")
    return int(count)


async def test_a_ring_received_at_sigterm_is_stored_before_exit(tmp_path: Path) -> None:
    peer = FritzBoxPeer()
    await peer.start()
    data = tmp_path / "firma"
    config = configure(data, "", peer.port)
    run = [sys.executable, "-m", "hub.cli", "run", "--config", str(config)]
    stderr = []
    try:
        for n in range(1, ROUNDS + 1):
            process = launch(run)
            try:
                box = await connected(peer, n)
                await asyncio.sleep(1)  # running steadily, past its start
                box.write(ringing(n))  # into the process's socket at once (a small write)
            finally:
                process.send_signal(signal.SIGTERM)
                stderr.append(await asyncio.to_thread(exited, process))
            assert process.returncode == 0, stderr[-1]
            assert rung(data) == n, (n, stderr[-1])
    finally:
        await peer.close()
    assert not any("Traceback" in text for text in stderr), stderr
