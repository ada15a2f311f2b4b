"""`kartei backup`, `kartei backup verify` and `kartei restore` speak the configured
language (German unless set to English), a restore the language of the configuration it
restores into. Both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings, load_settings
from tests.hub.test_backup import _migrate, fresh_database, source, write_config

__all__ = ["fresh_database", "source"]  # the fixtures, used by name

SAID = {
    "de": (
        "Gesichert und geprüft: ",
        ": unversehrt (",
        " Dateien, erstellt ",
        "unerwartetes Argument",
        "Konfiguration der Sicherung nach ",
        " wiederhergestellt (Sicherung vom ",
        "Kartei starten mit: kartei run --config ",
    ),
    "en": (
        "Backed up and verified: ",
        ": intact (",
        " files, taken ",
        "unexpected argument",
        "Wrote the backup's configuration to ",
        "Restored ",
        "Start Kartei with: kartei run --config ",
    ),
}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _in(language: str, config: Path) -> None:
    if language == "en":
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[kartei]\n", '[kartei]\nlanguage = "en"\n'))


@pytest.mark.parametrize("language", ["de", "en"])
def test_backup_verify_and_restore_speak_the_configured_language(
    tmp_path: Path, source: Settings, fresh_database: str | None, language: str
) -> None:
    made, intact, files, unexpected, wrote, restored, start = SAID[language]
    assert source.source is not None
    config = source.source
    _in(language, config)
    asyncio.run(_migrate(load_settings(config)))
    target = tmp_path / "sicherung"

    code, output = _run("backup", str(target), "--config", str(config))
    assert code == 0 and made in output, output
    code, output = _run("backup", "verify", str(target), "--config", str(config))
    assert code == 0 and intact in output and files in output, output
    code, output = _run("backup", str(target), "extra", "--config", str(config))
    assert code == 2 and unexpected in output, output

    place = tmp_path / "neu"
    new = place / "kartei.toml"
    if fresh_database is not None:  # PostgreSQL: the new database is named by hand
        _in(language, write_config(place, fresh_database))
    code, output = _run("restore", str(target), "--config", str(new))
    assert code == 0 and restored in output and start in output, output
    assert (wrote in output) == (fresh_database is None), output
