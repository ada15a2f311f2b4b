"""`kartei archive export` when the stored tree does not give the signed head's root: a
clear error that names what to run, no traceback, nothing written."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from hub.archive import Archive
from hub.cli import app
from tests.proofs.conftest import capture_mail, tamper, with_store

runner = CliRunner()


def test_an_export_of_a_changed_tree_fails_clearly(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 3)))
    signed = runner.invoke(app, ["archive", "sign", "-c", str(config)])
    assert signed.exit_code == 0, signed.output
    statement = "UPDATE merkle_leaves SET leaf_hash = :h WHERE leaf_index = 0"
    asyncio.run(
        with_store(database_url, lambda s: tamper(s, "merkle_leaves", statement, h=bytes(32)))
    )

    target = tmp_path / "export.zip"
    result = runner.invoke(app, ["archive", "export", str(target), "-c", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert out.startswith(
        "error: die im Merkle-Log gespeicherten Hashwerte ergeben nicht den Wurzel-Hashwert "
        "der Baumwurzel "
    )
    assert "(kartei archive verify nennt, was sich geändert hat)" in out
    assert "Traceback" not in out and not target.exists()

    english = tmp_path / "en.toml"
    english.write_text(config.read_text().replace("[kartei]", '[kartei]\nlanguage = "en"'))
    result = runner.invoke(app, ["archive", "export", str(target), "-c", str(english)])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert out.startswith("error: the Merkle log's stored hashes do not give the root of head")
    assert "(kartei archive verify names what changed)" in out
    assert "Traceback" not in out and not target.exists()


def test_an_export_to_a_taken_name_and_a_good_export(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    english = tmp_path / "en.toml"
    english.write_text(config.read_text().replace("[kartei]", '[kartei]\nlanguage = "en"'))
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 1)))
    taken = tmp_path / "taken"
    taken.mkdir()

    def export(target: Path, cfg: Path) -> tuple[int, str]:
        result = runner.invoke(app, ["archive", "export", str(target), "-c", str(cfg)])
        return result.exit_code, " ".join(result.output.split())

    code, out = export(taken, config)
    assert code == 2 and "gibt es schon; bitte einen neuen Ordner oder eine neue .zip-Datei" in out
    code, out = export(taken, english)
    assert code == 2 and "exists already; name a new folder or .zip file" in out
    code, out = export(tmp_path / "out.zip", config)
    assert code == 0, out
    assert out.startswith("1 Originaldatei von 1 Ereignis (0 gelöscht, ohne Datei aufgeführt)"), out
    assert "Prüfen mit: python3 verify_export.py <der entpackte Ordner>" in out
    code, out = export(tmp_path / "out", english)
    assert code == 0, out
    assert out.startswith("Exported 1 original file of 1 event (0 erased, listed without file)")
    assert "".join(out.split()).endswith(f"verify_export.py{tmp_path / 'out'}")  # a long path wraps
