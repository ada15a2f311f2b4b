"""The contact commands end to end: a demo data directory on SQLite, driven like a user."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.importers.samples import vcards
from hub.bootstrap import bootstrap
from hub.cli import app
from hub.demo import customers
from hub.demo.seeding import add_contacts
from hub.settings import load_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("kartei")
    result = runner.invoke(app, ["init", str(directory)])
    assert result.exit_code == 0, result.output
    config = directory / "kartei.toml"
    assert asyncio.run(demo_contacts(config)) == 300
    return config


async def demo_contacts(config: Path) -> int:
    """The demo firm's card index alone (`kartei init --demo` adds a year of history)."""
    kartei = bootstrap(load_settings(config), adapters=[], policies=[], projections=[])
    await kartei.store.start()
    try:
        return await add_contacts(kartei.store)
    finally:
        await kartei.store.close()


def kartei(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_lookup_a_demo_callers_direct_dial_and_switchboard(config: Path) -> None:
    _, person = next((i, c) for i, c in customers(300) if c.get("company_id"))
    code, out = kartei(config, "contacts", "lookup", person["phones"][0].raw, "--json")
    assert code == 0
    match = json.loads(out)
    assert match["how"] == "exact" and match["company"] == person["company"]
    switchboard = person["phones"][0].raw.rsplit("-", 1)[0] + "-555"
    code, out = kartei(config, "contacts", "lookup", switchboard, "--json")
    assert json.loads(out)["how"] == "switchboard"
    code, out = kartei(config, "contacts", "lookup", "n/a")
    assert code == 0 and "unknown caller" in out


def test_find_then_show(config: Path) -> None:
    code, out = kartei(config, "contacts", "find", "K-10002", "--json")
    found = json.loads(out)
    assert code == 0 and len(found) == 1
    code, out = kartei(config, "contacts", "show", found[0]["contact_id"], "--json")
    assert json.loads(out)["customer_number"] == "K-10002"
    code, out = kartei(config, "contacts", "show", found[0]["contact_id"])
    assert "Kundennummer: K-10002" in out
    code, out = kartei(config, "contacts", "show", "nobody")
    assert code == 1 and "no contact" in out


def test_import_dry_run_then_for_real_then_merge(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "neu.vcf"
    fresh = customers(5, seed=99)
    path.write_bytes(vcards(fresh))
    code, out = kartei(config, "import", str(path), "--dry-run", "--json")
    assert code == 0 and json.loads(out)["summary"]["create"] == 5
    code, out = kartei(config, "import", str(path))
    assert code == 0 and "angelegt: 5" in out  # German unless configured otherwise
    code, out = kartei(config, "import", str(path), "--json")
    assert json.loads(out)["summary"]["unchanged"] == 5
    code, out = kartei(config, "contacts", "find", fresh[0][1]["emails"][0], "--json")
    assert json.loads(out), out
    new_id = json.loads(out)[0]["contact_id"]
    code, out = kartei(config, "contacts", "find", "K-10001", "--json")
    old_id = json.loads(out)[0]["contact_id"]
    code, out = kartei(config, "contacts", "merge", old_id, new_id, "--json")
    assert code == 0 and fresh[0][1]["emails"][0] in json.loads(out)["emails"]
    code, out = kartei(config, "contacts", "merge", old_id, new_id)
    assert code == 1 and "was merged into" in out


def test_import_errors_are_clear(config: Path, tmp_path: Path) -> None:
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    code, out = kartei(config, "import", str(empty))
    assert code == 2 and "die Datei ist leer" in " ".join(out.split())  # unwrapped
    code, out = kartei(config, "import", str(empty), "--mapping", "Tel=telephone")
    assert code == 2 and "unbekanntes Feld" in out  # German unless configured otherwise
