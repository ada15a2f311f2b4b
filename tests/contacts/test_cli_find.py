"""`kartei contacts find` in an 80-column terminal: the id, which `show` and `merge` need,
is printed whole however long the names, firms and addresses beside it are."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

EXPORT = (
    "Vorname;Nachname;Firma;E-Mail-Adresse;Telefon geschäftlich;Ort geschäftlich\r\n"
    "Hans-Jürgen;Müller-Lüdenscheidt;Sanitär- und Heizungsbau Müller-Lüdenscheidt GmbH & Co. KG;"
    "hans-juergen.mueller-luedenscheidt@sanitaer-mueller-luedenscheidt.example;"
    "+49 2351 123456-78;Lüdenscheid-Brügge\r\n"
    "Anna-Katharina;Müller;Müller Garten- und Landschaftsbau GmbH;"
    "anna-katharina.mueller@gartenbau-mueller.example;0711 98765-4321;Stuttgart-Bad Cannstatt\r\n"
).encode("cp1252")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = tmp_path_factory.mktemp("kartei")
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(directory)]).exit_code == 0
    path = directory / "Kontakte.csv"
    path.write_bytes(EXPORT)
    config = str(directory / "kartei.toml")
    imported = runner.invoke(app, ["import", str(path), "--config", config])
    assert imported.exit_code == 0, imported.output
    return config


def kartei(config: str, *args: str, columns: int = 80) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "KARTEI_CONFIG": config}
    env.pop("FORCE_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [80, 60])
def test_find_prints_every_id_whole_in_a_narrow_terminal(config: str, columns: int) -> None:
    found = CliRunner().invoke(app, ["contacts", "find", "müller", "--json", "--config", config])
    ids = sorted(c["contact_id"] for c in json.loads(found.output))
    assert len(ids) == 2
    table = kartei(config, "contacts", "find", "müller", columns=columns)
    assert max(len(line) for line in table.splitlines()) <= columns
    assert sorted(re.findall(r"\b[0-9a-f]{16}\b", table)) == ids
    for contact_id in ids:
        shown = CliRunner().invoke(app, ["contacts", "show", contact_id, "--config", config])
        assert shown.exit_code == 0 and f"id {contact_id}" in shown.output
