"""`kartei import` of a messy German export: every row reported in file order, a row cut
short or split by a bare semicolon reported and not imported, cells over several lines
kept; on the real store (both databases) and through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.importers import remarks
from adapters.importers.run import import_file
from hub.cli import app
from tests.contacts.conftest import Directory
from tests.contacts.outlook_export import LINES, outlook_export


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
async def test_rows_in_file_order_and_rows_that_do_not_fit_are_not_imported(
    contacts: Directory, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "Kontakte.CSV"
    path.write_bytes(outlook_export(encoding))
    report = await import_file(path, contacts.store, [])
    await contacts.sync()
    assert [o.line for o in report.outcomes] == LINES
    actions = {o.line: o for o in report.outcomes}
    assert actions[5].action == "error" and actions[5].reason is not None
    assert actions[5].reason.key == remarks.SHORT_ROW
    assert dict(actions[5].reason.values) == {"found": "2", "expected": "15"}
    assert actions[10].action == "error" and actions[10].reason is not None
    assert actions[10].reason.key == remarks.LONG_ROW
    assert str(actions[6].warnings[0]) == "email 'kaputt' is not an address; left out"
    async with contacts.store.db.read() as conn:
        cards = await contacts.directory.all(conn)
        by_name = {c.display_name: c for c in cards}
        assert set(by_name) == {
            "Hans Kühn", "Erika Muster", "Anna Schulz", "Jörg Meier", "Petra Lange", "Lea Wolf"
        }  # fmt: skip
        assert by_name["Hans Kühn"].notes == "Rückruf erbeten\nnur vormittags"
        address = by_name["Lea Wolf"].address
        assert address is not None and address.street == "Am Markt 5, Hinterhaus"
        assert await contacts.identity.lookup_number(conn, "089 1234567") is None  # line 10


def test_the_command_line_reports_in_file_order(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "k")]).exit_code == 0
    config = str(tmp_path / "k" / "kartei.toml")
    path = tmp_path / "Kontakte.csv"
    path.write_bytes(outlook_export())
    result = runner.invoke(app, ["import", str(path), "--dry-run", "--config", config])
    assert "Vorschau: " in result.output and "(CSV-Datei) – anlegen: 6" in result.output
    assert "Nur Vorschau: Es wurde nichts gespeichert." in result.output
    lines = [line.strip() for line in result.output.splitlines() if line.startswith("  Zeile ")]
    assert [int(line.split()[1].rstrip(":")) for line in lines] == LINES
    assert lines[2] == (  # in German, like the web's import page
        "Zeile 5: Fehler – nur 2 von 15 Feldern der Kopfzeile; nicht importiert "
        "(Trennzeichen und Anführungszeichen der Zeile prüfen)"
    )
    result = runner.invoke(app, ["import", str(path), "--config", config])
    assert result.exit_code == 1  # rows were left out: the exit status says so
    assert "Zeile 5: Fehler" in result.output and "Zeile 8:" not in result.output
    assert "Importiert: " in result.output and "angelegt: 6, zusammengeführt: 1" in result.output
    result = runner.invoke(app, ["import", str(path), "--json", "--config", config])
    rows = json.loads(result.output)["rows"]
    assert [r["line"] for r in rows] == LINES
    assert rows[2]["reason"] == {  # the JSON stays English: it is for programs
        "text": "only 2 of the header's 15 fields; not imported "
        "(check the row's separators and quotes)",
        "key": remarks.SHORT_ROW,
        "values": {"found": "2", "expected": "15"},
    }


def test_the_command_line_speaks_english_when_configured(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "k")]).exit_code == 0
    config = tmp_path / "k" / "kartei.toml"
    config.write_text(config.read_text().replace('language = "de"', 'language = "en"'))
    path = tmp_path / "Kontakte.csv"
    path.write_bytes(outlook_export())
    result = runner.invoke(app, ["import", str(path), "--dry-run", "--config", str(config)])
    assert "Preview: " in result.output and "(CSV file) – create: 6" in result.output
    assert "  line 5: error – only 2 of the header's 15 fields" in result.output
    assert "Preview only: nothing was written." in result.output
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["import", str(empty), "--config", str(config)])
    assert result.exit_code == 2 and "the file is empty" in " ".join(result.output.split())
