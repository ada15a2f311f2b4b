"""`kartei cluster status` speaks the configured language (German unless set to English);
--json stays English. Both databases."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.store import Database, EventStore
from hub.store.schema import leases

SAID = {
    "de": ("Kein Prozess hält etwas", "zuständig für", "Inhaber", "abgelaufen"),
    "en": ("No process holds anything", "covers", "owner", "expired"),
}


async def _lease(url: str, name: str, expires_in: float) -> None:
    store = EventStore(Database(url))
    await store.start()  # the schema
    try:
        async with store.db.write() as conn:
            row = {"name": name, "owner": "host:1:a", "expires_at": time.time() + expires_in}
            await conn.execute(leases.insert().values(**row))
    finally:
        await store.close()


@pytest.mark.parametrize("language", ["de", "en"])
def test_cluster_status_speaks_the_configured_language(
    tmp_path: Path, database_url: str, language: str
) -> None:
    nobody, covers, owner, expired = SAID[language]
    config = tmp_path / "kartei.toml"
    chosen = 'language = "en"\n' if language == "en" else ""
    config.write_text(
        f'[kartei]\n{chosen}data_dir = "{tmp_path / "data"}"\n[database]\nurl = "{database_url}"\n'
    )
    runner = CliRunner()

    def status(*options: str) -> str:
        result = runner.invoke(app, ["cluster", "status", *options, "-c", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    asyncio.run(_lease(database_url, "mailbox:info", -5))
    shown = status()
    assert covers in shown and owner in shown and expired in shown, shown
    assert "mailbox:info" in shown and "host:1:a" in shown
    assert orjson.loads(status("--json"))[0]["name"] == "mailbox:info"
    asyncio.run(_empty(database_url))
    assert nobody in status()


async def _empty(url: str) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            await conn.execute(leases.delete())
    finally:
        await db.dispose()
