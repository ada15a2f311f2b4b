"""A clean stop (SIGTERM) of `kartei run` keeps the call events it has received (FRITZ!Box
call monitor, Asterisk manager).

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
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.hub.test_fresh_start import configure
from tests.telephony.peers import AsteriskPeer, FritzBoxPeer

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

    async def ring_and_stop(n: int) -> None:
        box = await connected(peer, n)
        await asyncio.sleep(1)  # running steadily, past its start
        box.write(ringing(n))  # into the process's socket at once (a small write)

    try:
        await rounds(config, data, ring_and_stop)
    finally:
        await peer.close()


async def rounds(config: Path, data: Path, ring: Callable[[int], Awaitable[None]]) -> None:
    """ROUNDS times: start `kartei run`, `ring` (call n reaches its socket), SIGTERM at
    once; after each exit the store holds n calls, and no round logged a traceback."""
    run = [sys.executable, "-m", "hub.cli", "run", "--config", str(config)]
    stderr = []
    for n in range(1, ROUNDS + 1):
        process = launch(run)
        try:
            await ring(n)
        finally:
            process.send_signal(signal.SIGTERM)
            stderr.append(await asyncio.to_thread(exited, process))
        assert process.returncode == 0, stderr[-1]
        assert rung(data) == n, (n, stderr[-1])
    assert not any("Traceback" in text for text in stderr), stderr


def ami_ringing(n: int) -> list[dict[str, str]]:
    """An outside call ringing extension 201, as Asterisk's manager reports it; `n` makes
    each round's call its own (channel ids and caller)."""
    caller = {
        "Channel": f"PJSIP/telekom-0000000{n}",
        "CallerIDNum": f"03055511{n:02d}",
        "CallerIDName": "Müller GmbH",
        "Exten": "4930123450",
        "Context": "from-trunk",
        "Uniqueid": f"1700000000.{2 * n}",
        "Linkedid": f"1700000000.{2 * n}",
    }
    dest = {
        "Channel": f"PJSIP/201-0000000{n}",
        "CallerIDNum": "201",
        "Exten": "201",
        "Context": "internal",
        "Uniqueid": f"1700000000.{2 * n + 1}",
        "Linkedid": f"1700000000.{2 * n}",
    }
    dial = {
        "DestChannel": dest["Channel"],
        "DestCallerIDNum": "201",
        "DestUniqueid": dest["Uniqueid"],
        "DestLinkedid": caller["Linkedid"],
    }
    return [
        {"Event": "Newchannel", **caller, "ChannelState": "4", "ChannelStateDesc": "Ring"},
        {"Event": "Newchannel", **dest, "ChannelState": "0", "ChannelStateDesc": "Down"},
        {"Event": "DialBegin", **caller, **dial, "DialString": "201"},
        {"Event": "Newstate", **dest, "ChannelState": "5", "ChannelStateDesc": "Ringing"},
    ]


async def test_asterisk_events_received_at_sigterm_are_stored_before_exit(
    tmp_path: Path,
) -> None:
    # Asterisk's manager interface has no replay either.
    pbx = AsteriskPeer()
    await pbx.start()
    data = tmp_path / "firma"
    config = configure(data, "", pbx.port)
    head, _, _ = config.read_text().rpartition("\n[[telephony.fritzbox]]")  # the box configure adds
    config.write_text(
        head + f'\n[[telephony.asterisk]]\nname = "pbx"\nhost = "127.0.0.1"\nport = {pbx.port}\n'
        'username = "kartei"\nsecret = "geheim"\n'
    )

    async def ring_and_stop(n: int) -> None:
        await pbx.wait_logins(n)
        await asyncio.sleep(1)  # running steadily, past its start
        await pbx.emit(*ami_ringing(n))  # into the process's socket at once

    try:
        await rounds(config, data, ring_and_stop)
    finally:
        await pbx.close()
