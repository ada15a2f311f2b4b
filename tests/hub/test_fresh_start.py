"""The first `kartei run` on a brand-new PostgreSQL schema starts without an error.

Every projection and policy creates what it needs as it starts, side by side. A policy
that reads a projection's table (the call-back policy looks a caller up in the identity
index) must not read it before that projection has created it: the process logged
`relation "identity_numbers" does not exist` and restarted the policy a second later.
The call monitor rings (missed calls) from the first moment, so the policy reacts while
its read models are still being made.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import new_pg_schema
from tests.hub.test_cli import free_port, kartei
from tests.hub.test_cluster import Cluster, ring, until
from tests.telephony.peers import FritzBoxPeer

pytestmark = pytest.mark.slow


def configure(data: Path, url: str, peer: int) -> Path:
    """A new installation on `url` with one FRITZ!Box; no mailbox, no classifier."""
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    text = config.read_text()
    for old, new in (
        ("[database]\n", f'[database]\nurl = "{url}"\n'),
        ("port = 8080", f"port = {free_port()}"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    head, _, classifier = text.partition("[classifier]\n")
    text = head + "[classifier]\n" + classifier.replace("enabled = true", "enabled = false", 1)
    text += f'\n[[telephony.fritzbox]]\nname = "office"\nhost = "127.0.0.1"\nport = {peer}\n'
    config.write_text(text)
    return config


async def test_a_fresh_start_on_an_empty_schema_logs_no_error(
    pg_database: str, tmp_path: Path
) -> None:
    url = new_pg_schema(pg_database)
    peer = FritzBoxPeer()
    await peer.start()
    cluster = Cluster(configure(tmp_path / "firma", url, peer.port), url)
    calls = 6
    try:
        cluster.start("a")
        await peer.wait_connections(1)  # the monitor connects while the rest starts
        for n in range(1, calls + 1):
            await peer.send(ring(n))  # missed calls: the call-back policy looks them up
            await asyncio.sleep(0.05)
        await until(lambda: cluster.count("CallEnded")[0] >= calls)
        await asyncio.sleep(2)  # the policy has taken them, or failed on them
    finally:
        errors = cluster.stop()
        await peer.close()
    stderr = errors["a"]
    assert "ERROR" not in stderr and "Traceback" not in stderr, stderr
    assert "does not exist" not in stderr, stderr
