"""Commands run while `kartei run` serves the same database, as the README allows.

Before leases, `kartei import` and `kartei contacts ...` caught the read models up in
their own process and moved the checkpoints under the running server, whose projections
then failed with ProjectionConflictError ("checkpoint is no longer at N") and showed the
error on the dashboard. Now the server owns its projections and a command waits for them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.importers.samples import vcards
from hub.demo import customers
from tests.hub.test_cli import KARTEI, free_port, kartei

pytestmark = pytest.mark.slow


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Path, str, subprocess.Popen[str]]]:
    """A data directory with its config, and `kartei run` serving it."""
    data = tmp_path / "firma"
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    port = free_port()
    text = config.read_text().replace("port = 8080", f"port = {port}")
    if not database_url.startswith("sqlite"):
        text = text.replace("[database]\n", f'[database]\nurl = "{database_url}"\n', 1)
    config.write_text(text)
    proc = subprocess.Popen(
        [*KARTEI, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _projections(base) and all(_projections(base).values()), proc)
        yield config, base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


def test_import_find_and_lookup_beside_the_running_server(
    served: tuple[Path, str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    config, base, proc = served
    people = customers(40, seed=11)
    cards = tmp_path / "kunden.vcf"
    cards.write_bytes(vcards(people))

    imported = kartei("import", str(cards), "--json", "--config", str(config))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["summary"]["create"] == len(people)

    # The command waited for the server's read models: the import is found at once.
    email = people[-1][1]["emails"][0]
    found = kartei("contacts", "find", email, "--json", "--config", str(config))
    assert found.returncode == 0, found.stderr
    assert [c["emails"] for c in json.loads(found.stdout)] == [[email]]
    number = people[0][1]["phones"][0].raw
    looked_up = kartei("contacts", "lookup", number, "--json", "--config", str(config))
    assert json.loads(looked_up.stdout)["how"] == "exact", looked_up.stdout

    # A rebuild needs the read models to itself: it says so instead of breaking them.
    rebuilt = kartei("rebuild", "contacts", "--config", str(config))
    assert rebuilt.returncode != 0
    assert "stop the running Kartei" in rebuilt.stderr

    health = httpx.get(f"{base}/healthz", timeout=5).json()["components"]
    for name, component in health.items():
        if name.startswith(("projection:", "policy:")):
            assert component["state"] == "ok", (name, component)
            assert component["restarts"] == 0 and component["last_error"] is None, name

    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "ProjectionConflictError" not in err and "Traceback" not in err


def test_commands_project_themselves_when_no_server_runs(tmp_path: Path) -> None:
    """Without a running Kartei the command catches the read models up itself."""
    data = tmp_path / "firma"
    assert kartei("init", str(data)).returncode == 0
    config = data / "kartei.toml"
    people = customers(5, seed=12)
    cards = tmp_path / "kunden.vcf"
    cards.write_bytes(vcards(people))
    assert kartei("import", str(cards), "--config", str(config)).returncode == 0
    found = kartei("contacts", "find", people[2][1]["emails"][0], "--json", "--config", str(config))
    assert len(json.loads(found.stdout)) == 1
    rebuilt = kartei("rebuild", "--config", str(config))
    assert rebuilt.returncode == 0, rebuilt.stderr


def _projections(base: str) -> dict[str, bool]:
    try:
        components = httpx.get(f"{base}/healthz", timeout=1).json()["components"]
    except httpx.TransportError:
        return {}
    return {
        name: c["state"] == "ok" for name, c in components.items() if name.startswith("projection:")
    }


def _wait_until(ready, proc: subprocess.Popen[str], seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "kartei run did not come up"
        time.sleep(0.1)
