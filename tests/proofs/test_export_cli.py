"""`kartei archive export` when the stored tree does not give the signed head's root: a
clear error that names what to run, no traceback, nothing written."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from hub.archive import Archive
from hub.cli import app
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


def test_an_export_of_a_changed_tree_fails_clearly(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    archive = Archive(tmp_path / "archive")
    asyncio.run(_with_store(database_url, lambda s: capture_mail(s, archive, 3)))
    signed = runner.invoke(app, ["archive", "sign", "-c", str(config)])
    assert signed.exit_code == 0, signed.output
    statement = "UPDATE merkle_leaves SET leaf_hash = :h WHERE leaf_index = 0"
    asyncio.run(
        _with_store(database_url, lambda s: tamper(s, "merkle_leaves", statement, h=bytes(32)))
    )

    target = tmp_path / "export.zip"
    result = runner.invoke(app, ["archive", "export", str(target), "-c", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert out.startswith("error: the Merkle log's stored hashes do not give the root of head")
    assert "(kartei archive verify names what changed)" in out
    assert "Traceback" not in out and not target.exists()
