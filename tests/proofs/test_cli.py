"""`kartei archive sign | verify | prove | consistency` on a configured installation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from hub.archive import Archive
from hub.cli import app
from hub.proofs import merkle
from hub.store import Database, EventStore
from tests.proofs.conftest import capture_mail, tamper

runner = CliRunner()


async def _with_store(url: str, work) -> None:  # type: ignore[no-untyped-def]
    store = EventStore(Database(url))
    await store.start()
    try:
        await work(store)
    finally:
        await store.close()


def test_sign_verify_prove_and_a_tampered_row(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    archive = Archive(tmp_path / "archive")
    asyncio.run(_with_store(database_url, lambda s: capture_mail(s, archive, 3)))

    def kartei(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["archive", *args, "-c", str(config)])
        return result.exit_code, result.output

    assert kartei("sign")[0] == 0
    asyncio.run(_with_store(database_url, lambda s: capture_mail(s, archive, 2, start=5)))
    code, out = kartei("sign", "--json")
    # 5 mails and each signing's audit event (AdminActionRecorded): events, so logged too
    assert code == 0 and json.loads(out)["size"] == 7
    code, out = kartei("verify")
    assert code == 0, out
    assert "7 events, 10 blobs" in out and "Archive intact." in out
    audit = runner.invoke(app, ["privacy", "audit", "-c", str(config)])
    assert audit.exit_code == 0 and audit.output.count("Verwaltung: Baumwurzel signiert") == 2

    proof = json.loads(kartei("prove", "2")[1])
    assert merkle.verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(proof["root"]),
    )
    step = json.loads(kartei("consistency", "1", "2")[1])
    assert merkle.verify_consistency(
        4,
        7,
        bytes.fromhex(step["old"]["root"]),
        bytes.fromhex(step["new"]["root"]),
        [bytes.fromhex(p) for p in step["path"]],
    )
    assert kartei("prove", "99") == (1, "error: no event at position 99 in the Merkle log (yet)\n")

    statement = "UPDATE events SET recorded_at = recorded_at WHERE position = 2"
    asyncio.run(_with_store(database_url, lambda s: tamper(s, "events", statement)))
    assert kartei("verify")[0] == 0  # an UPDATE that changes nothing changes no leaf
    statement = "UPDATE events SET type = 'EmailSent' WHERE position = 2"
    asyncio.run(_with_store(database_url, lambda s: tamper(s, "events", statement)))
    code, out = kartei("verify")
    assert code == 1
    assert "event at position 2 differs from its logged leaf" in out
    assert "Archive NOT intact." in out
