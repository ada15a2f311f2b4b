"""The Verfahrensdokumentation is generated from a real configuration and the archive."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pypdf import PdfReader
from typer.testing import CliRunner

from hub.archive import Archive
from hub.cli import app
from hub.demo import firm as demo
from hub.proofs import heads
from hub.proofs.log import MerkleLog
from hub.proofs.procedure import facts, render
from hub.proofs.procedure_pdf import to_pdf
from hub.settings import load_settings, settings_from_dict
from tests.proofs.conftest import capture_mail, with_store

runner = CliRunner()


async def test_the_document_states_the_configuration_and_hides_secrets(
    logged: MerkleLog, tmp_path: Path
) -> None:
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "mail": {
                "own_domains": ["firma.example"],
                "imap": [
                    {
                        "name": "info",
                        "host": "imap.firma.example",
                        "username": "info@firma.example",
                        "password": "geheim-123",
                        "folders": ["<script>alert(1)</script>"],
                    }
                ],
                "smtp": {"enabled": True, "users": {"scanner": "smtp-geheim"}},
            },
            "archive": {"tsa_url": "https://tsa.example/tsr", "sign_time": "22:15"},
        }
    )
    html = render(settings, await facts(settings, logged), "Müller & Söhne GmbH")
    assert "<h1>Verfahrensdokumentation zur Archivierung von E-Mails und Faxen</h1>" in html
    assert "Müller &amp; Söhne GmbH" in html
    assert "info@firma.example auf\nimap.firma.example:993" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "geheim-123" not in html and "smtp-geheim" not in html
    assert "5 empfangene und 0 gesendete E-Mails" in html
    assert "derzeit 6 Einträge" in html and "täglich um 22:15 Uhr" in html
    assert "durch https://tsa.example/tsr;\n0 Zeitstempel vorhanden" in html
    der = heads.load_public(tmp_path).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hashlib.sha256(der).hexdigest() in html


def _configured(tmp_path: Path, database_url: str) -> Path:
    """A firm's kartei.toml as an administrator writes it, with mail already captured."""
    config = tmp_path / "kartei.toml"
    config.write_text(
        f"""[kartei]
data_dir = "."
timezone = "Europe/Berlin"
[database]
url = "{database_url}"
[mail]
own_domains = ["bäckerei-süß.example"]
exclude_senders = ["newsletter@großhandel.example"]
[[mail.imap]]
name = "buero"
host = "imap.bäckerei-süß.example"
username = "büro@bäckerei-süß.example"
password = "streng-geheim"
folders = ["Kunden/Änderungen"]
[archive]
sign_time = "21:45"
tsa_url = "https://zeitstempel.example/tsr"
""",
        encoding="utf-8",
    )
    archive = Archive(tmp_path / "archive")
    asyncio.run(with_store(database_url, lambda s: capture_mail(s, archive, 3)))
    return config


def _text(pdf: Path) -> str:
    """The PDF's text as a reader extracts it, lines joined (layout breaks lines anywhere)."""
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"\s+", " ", text)


def test_the_pdf_is_the_same_german_document_from_the_real_configuration(
    tmp_path: Path, database_url: str
) -> None:
    config = _configured(tmp_path, database_url)
    target = tmp_path / "Verfahrensdokumentation.pdf"
    result = runner.invoke(
        app,
        ["archive", "procedure", str(target), "--firm", "Bäckerei Süß & Söhne", "-c", str(config)],
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")
    text = _text(target)
    for sentence in (
        "Verfahrensdokumentation zur Archivierung von E-Mails und Faxen",
        "Bäckerei Süß & Söhne",
        "1. Allgemeine Beschreibung",
        "unveränderbar auf (GoBD Rz. 58 ff., § 147 AO, § 257 HGB)",
        "IMAP-Postfach „buero“",
        "büro@bäckerei-süß.example auf imap.bäckerei-süß.example:993",
        "Kunden/Änderungen",
        "newsletter@großhandel.example",
        "3 empfangene und 0 gesendete E-Mails",
        "täglich um 21:45 Uhr (Europe/Berlin)",
        "durch https://zeitstempel.example/tsr",
        "Eine Löschung vernichtet den Schlüssel der Person",
        "Seite 1 von",
    ):
        assert sentence in text, sentence
    assert "streng-geheim" not in text
    html = tmp_path / "Verfahrensdokumentation.html"
    result = runner.invoke(app, ["archive", "procedure", str(html), "-c", str(config)])
    assert result.exit_code == 0 and html.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_without_dejavu_the_pdf_keeps_the_umlauts(tmp_path: Path) -> None:
    document = render_html(tmp_path, "Müller & Söhne")
    target = tmp_path / "core-fonts.pdf"
    target.write_bytes(to_pdf(document, font_dirs=()))
    text = _text(target)
    assert 'IMAP-Postfach "info"' in text and "Müller & Söhne" in text
    assert "Eine Löschung vernichtet den Schlüssel der Person" in text


def test_without_the_pdf_extra_the_command_names_it(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _configured(tmp_path, database_url)
    monkeypatch.setitem(sys.modules, "fpdf", None)  # as if fpdf2 were not installed
    target = tmp_path / "doc.pdf"
    result = runner.invoke(app, ["archive", "procedure", str(target), "-c", str(config)])
    assert result.exit_code != 0
    assert "pip install 'kartei[pdf]'" in result.output
    assert not target.exists()


def render_html(tmp_path: Path, firm: str) -> str:
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "mail": {"imap": [{"name": "info", "host": "imap.example", "username": "u"}]},
        }
    )
    heads.ensure_key(tmp_path)
    stated: dict[str, Any] = {
        "counts": {},
        "first": None,
        "last": None,
        "heads": 0,
        "last_head": None,
        "timestamps": 0,
        "leaves": 0,
        "public_pem": heads.public_pem(heads.load_public(tmp_path)).decode(),
        "fingerprint": "0" * 64,
    }
    return render(settings, stated, firm)


def test_the_firm_is_named_by_its_configuration(tmp_path: Path, database_url: str) -> None:
    config = _configured(tmp_path, database_url)
    target = tmp_path / "Verfahrensdokumentation.html"

    def title(*args: str) -> str:
        result = runner.invoke(app, ["archive", "procedure", str(target), *args, "-c", str(config)])
        assert result.exit_code == 0, result.output
        found = re.search("<title>(.*)</title>", target.read_text(encoding="utf-8"))
        assert found is not None
        return found[1]

    assert title() == "Verfahrensdokumentation – Unternehmen"
    plain = config.read_text(encoding="utf-8")
    named = plain.replace("[kartei]\n", '[kartei]\nfirm = "Bäckerei Süß & Söhne"\n')
    config.write_text(named, encoding="utf-8")
    assert title() == "Verfahrensdokumentation – Bäckerei Süß &amp; Söhne"
    assert "<strong>Bäckerei Süß &amp; Söhne</strong>" in target.read_text(encoding="utf-8")
    assert title("--firm", "Süß KG") == "Verfahrensdokumentation – Süß KG"

    config.write_text(plain.replace("[kartei]\n", "[kartei]\nfirm = 42\n"), encoding="utf-8")
    result = runner.invoke(app, ["archive", "procedure", str(target), "-c", str(config)])
    assert result.exit_code != 0
    assert f"{config}: kartei.firm: expected a valid string (got 42)" in " ".join(
        result.output.split()
    )


def test_the_demo_configuration_names_its_firm(tmp_path: Path) -> None:
    written = tmp_path / "kartei.toml"
    written.write_text(demo.CONFIG, encoding="utf-8")  # as `kartei init --demo` writes it
    settings = load_settings(written)
    assert settings.kartei.firm == demo.NAME == "Hansen Bürotechnik GmbH"
    example = Path(__file__).parents[2] / "hub" / "defaults" / "kartei.example.toml"
    assert load_settings(example).kartei.firm == ""
