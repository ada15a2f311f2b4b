"""`kartei import --mapping COLUMN=FIELD` says what is wrong with a mapping in the configured
language (German unless set to English), as it says the importer's other errors: a
mapping without '=', an unknown field, a mapped column the file does not have (read from
the file, so on both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.importers import columns
from hub.cli import app
from hub.web.i18n import GERMAN

CSV = "Name;E-Mail;Telefon\nErika Muster;erika@muster.example;030 1234567\n"


@pytest.fixture(params=["de", "en"])
def config(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> tuple[Path, str]:
    """A configuration in German or English, and its language."""
    path = tmp_path / "kartei.toml"
    path.write_text(
        f'[kartei]\nlanguage = "{request.param}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[database]\nurl = "{database_url}"\n'
    )
    return path, request.param


def _import(config: Path, file: Path, *mapping: str) -> tuple[int, str]:
    args = ["import", str(file), "--config", str(config)]
    for item in mapping:
        args += ["--mapping", item]
    result = CliRunner().invoke(app, args)
    return result.exit_code, " ".join(result.output.split())  # unwrapped


SAID = {
    "de": (
        "Zuordnung 'Tel': bitte als SPALTE=FELD angeben",
        "Zuordnung 'Tel=telephone': unbekanntes Feld 'telephone'; bekannt sind: name, ",
        "Kontakte.csv: zugeordnete Spalten fehlen in der Kopfzeile: kdnr",
    ),
    "en": (
        "mapping 'Tel': write it as COLUMN=FIELD",
        "mapping 'Tel=telephone': unknown field 'telephone'; known: name, ",
        "Kontakte.csv: mapped columns not in the header row: kdnr",
    ),
}


def test_a_wrong_mapping_is_said_in_the_configured_language(
    config: tuple[Path, str], tmp_path: Path
) -> None:
    path, language = config
    file = tmp_path / "Kontakte.csv"
    file.write_text(CSV, encoding="utf-8")
    written, unknown, missing = SAID[language]
    code, out = _import(path, file, "Tel")
    assert code == 2 and written in out, out
    code, out = _import(path, file, "Tel=telephone")
    assert code == 2 and unknown in out, out
    code, out = _import(path, file, "Kd.Nr.=customer_number")
    assert code == 2 and missing in out, out


def test_every_mapping_error_has_german_words() -> None:
    assert all(key in GERMAN for key in columns.KEYS)
    error = columns.MappingError(columns.NOT_IN_HEADER, columns="kdnr")
    assert str(error) == "mapped columns not in the header row: kdnr"  # --json, logs: English
