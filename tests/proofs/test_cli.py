"""`kartei archive sign | verify | prove | consistency` on a configured installation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from hub.archive import Archive
from hub.cli import app
from hub.proofs import merkle
from tests.proofs.conftest import capture_mail, tamper, with_store

runner = CliRunner()


def test_sign_verify_prove_and_a_tampered_row(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "kartei.toml"
    config.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 3)))

    def kartei(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["archive", *args, "-c", str(config)])
        return result.exit_code, result.output

    assert kartei("sign")[0] == 0
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 2, start=5)))
    code, out = kartei("sign", "--json")
    # 5 mails and each signing's audit event (AdminActionRecorded): events, so logged too
    assert code == 0 and json.loads(out)["size"] == 7
    code, out = kartei("verify")
    assert code == 0, out
    assert "Geprüft: 7 Ereignisse, 10 Dateien (0 davon gelöscht" in out
    assert "Archiv unversehrt." in out
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
    assert kartei("prove", "99") == (
        1,
        "error: kein Ereignis an Position 99 im Merkle-Log (noch nicht)\n",
    )

    statement = "UPDATE events SET recorded_at = recorded_at WHERE position = 2"
    asyncio.run(with_store(database_url, lambda s: tamper(s, "events", statement)))
    assert kartei("verify")[0] == 0  # an UPDATE that changes nothing changes no leaf
    statement = "UPDATE events SET type = 'EmailSent' WHERE position = 2"
    asyncio.run(with_store(database_url, lambda s: tamper(s, "events", statement)))
    code, out = kartei("verify")
    assert code == 1
    out = " ".join(out.split())
    assert (
        "PROBLEM Ereignis an Position 2 geändert: passt nicht mehr zu seinem Blatt im Merkle-Log"
    ) in out
    assert "Archiv NICHT unversehrt." in out


def _configs(tmp_path: Path, database_url: str) -> tuple[Path, Path]:
    """The German default and an English config of one installation."""
    german, english = tmp_path / "kartei.toml", tmp_path / "en.toml"
    german.write_text(f'[kartei]\ndata_dir = "."\n[database]\nurl = "{database_url}"\n')
    english.write_text(german.read_text().replace("[kartei]", '[kartei]\nlanguage = "en"'))
    return german, english


def _kartei(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["archive", *args])
    return result.exit_code, " ".join(result.output.split())


def test_verify_speaks_german_by_default_and_english_when_configured(
    tmp_path: Path, database_url: str
) -> None:
    german, english = _configs(tmp_path, database_url)
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 1)))
    code, out = _kartei("sign", "-c", str(german))
    assert code == 0 and out.startswith("Baumwurzel 1: 2 Ereignisse, Wurzel-Hashwert "), out
    code, out = _kartei("verify", "-c", str(german))
    assert code == 0, out
    assert out == (
        "Geprüft: 2 Ereignisse, 2 Dateien (0 davon gelöscht, als Hashwert erhalten), "
        "1 Baumwurzel, 0 Zeitstempel. Archiv unversehrt."
    )
    code, out = _kartei("verify", "-c", str(english))
    assert code == 0 and out == (
        "2 events, 2 blobs (0 erased, kept as hashes), 1 tree head, 0 timestamps checked. "
        "Archive intact."
    )

    # a changed archived file: the verdict and the finding, in either language
    [blob, *_] = sorted(p for p in (tmp_path / "archive").rglob("*") if p.is_file())
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    code, out = _kartei("verify", "-c", str(german))
    assert code == 1
    assert (
        f"PROBLEM Datei {blob.name} (Ereignis 1) geändert: passt nicht zum protokollierten "
        "Hashwert Archiv NICHT unversehrt."
    ) in out
    code, out = _kartei("verify", "-c", str(english))
    assert code == 1
    assert (
        f"PROBLEM blob {blob.name} (event 1) differs from its logged hash Archive NOT intact."
    ) in out
    # --json stays English and keeps its fields, whatever the language
    result = runner.invoke(app, ["archive", "verify", "--json", "-c", str(german)])
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["ok"] is False
    assert report["problems"] == [f"blob {blob.name} (event 1) differs from its logged hash"]


def test_prove_and_consistency_errors_in_both_languages(tmp_path: Path, database_url: str) -> None:
    german, english = _configs(tmp_path, database_url)
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 1)))
    assert _kartei("prove", "1", "-c", str(german)) == (
        1,
        "error: noch keine signierte Baumwurzel umfasst Position 1 (kartei archive sign)",
    )
    assert _kartei("prove", "1", "-c", str(english)) == (
        1,
        "error: no signed tree head covers position 1 yet (kartei archive sign)",
    )
    assert _kartei("consistency", "1", "2", "-c", str(german)) == (
        2,
        "error: keine Baumwurzel 1",
    )
    assert _kartei("consistency", "1", "2", "-c", str(english)) == (2, "error: no tree head 1")
