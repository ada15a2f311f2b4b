"""Provider profiles: the shipped ones, an admin's own, bad files; `kartei fax test`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapters.fax.parsing import FaxParseError, parse_fax
from adapters.fax.profiles import ProfileError, load_profiles
from hub.cli import app
from tests.fax import documents, messages

PROFILES = load_profiles()
PDF = documents.text_pdf([documents.GERMAN])


@pytest.mark.parametrize(
    ("raw", "profile", "sender", "receiver", "pages"),
    [
        (messages.fritzbox(PDF), "fritzbox", "0221 987654", "030 5550 99", 2),
        (messages.sipgate(PDF), "sipgate", "+49 89 1234560", "+49 30 555099", 2),
        (messages.placetel(PDF), "placetel", "040 7654321", "030 555099", 2),
        (messages.hylafax(b"II*\x00"), "hylafax", "+44 20 79460000", "030555099", 1),
        (messages.generic(PDF, "fax.pdf"), "generic", "0221 987654", "", None),
    ],
)
def test_shipped_profiles(
    raw: bytes, profile: str, sender: str, receiver: str, pages: int | None
) -> None:
    fax = parse_fax(raw, PROFILES)
    assert (fax.profile, fax.sender_raw, fax.receiver_raw, fax.pages) == (
        profile,
        sender,
        receiver,
        pages,
    )


@pytest.mark.parametrize(
    ("body", "sender"),
    [
        ("Eingang: recvq/fax00000042.tif\nSeiten: 1", ""),
        ("Anhang: Fax0221987654.pdf", ""),
        ("Gespeichert von 0221987654.pdf", ""),
        ("Datei fax00000042.tif\nTelefax von 0221 987654.", "0221 987654"),
    ],
)
def test_no_profile_reads_a_file_name_or_queue_id_as_a_number(body: str, sender: str) -> None:
    raw = messages.fax_email(
        "Faxdienst <service@faxanbieter.example>", "Eingegangenes Telefax", body, PDF, "f.pdf"
    )
    fax = parse_fax(raw, PROFILES)
    assert (fax.profile, fax.sender_raw) == ("generic", sender)


def test_an_email_without_a_fax_document_is_refused() -> None:
    raw = messages.fax_email("a@b.example", "Fax von 0301234", "x", b"hello", "a.txt", "text/plain")
    with pytest.raises(FaxParseError, match="no fax document"):
        parse_fax(raw, PROFILES)
    with pytest.raises(FaxParseError):
        parse_fax(b"", PROFILES)


def test_an_admin_adds_a_profile_without_code(tmp_path: Path) -> None:
    own = tmp_path / "providers.toml"
    own.write_text(
        "[[profile]]\nname = 'ecofax'\nmatch_from = '@ecofax\\.example$'\n"
        "sender = ['Kennung: (?P<number>[+\\d ]+\\d)']\npages = ['(?P<pages>\\d+) Bl']\n"
    )
    raw = messages.fax_email(
        "f@ecofax.example", "Eingang", "Kennung: 0711 22334\n3 Bl", PDF, "x.pdf"
    )
    fax = parse_fax(raw, load_profiles(own))
    assert (fax.profile, fax.sender_raw, fax.pages, fax.kind) == ("ecofax", "0711 22334", 3, "pdf")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[[profile]]\nname = 'a'\nsender = ['(?P<number>x']\n", "bad pattern"),
        ("[[profile]]\nname = 'a'\nsender = ['\\d+']\n", "lacks the group"),
        ("[[profile]]\nname = 'a'\nsubject = 'x'\n", "unknown keys"),
        ("[[profile]]\nsender = []\n", "needs a name"),
        ("name = 'a'\n", "no [[profile]]"),
        ("[[profile\n", "Expected"),
    ],
)
def test_bad_profile_files_are_named(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=error.replace("[", r"\[")):
        load_profiles(path)


def test_cli_shows_what_a_profile_extracts(tmp_path: Path) -> None:
    sample = tmp_path / "fax.eml"
    sample.write_bytes(messages.placetel(documents.text_pdf([documents.GERMAN, documents.ENGLISH])))
    runner = CliRunner()
    config = tmp_path / "kartei.toml"
    config.write_text("[kartei]\ndata_dir = 'data'\n")
    result = runner.invoke(app, ["fax", "test", str(sample), "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    shown = orjson.loads(result.stdout)
    assert shown["profile"] == "placetel" and shown["sender_e164"] == "+49407654321"
    assert shown["pages"] == 2 and shown["text_source"] == "pdf" and "Müller" in shown["text"]
    result = runner.invoke(app, ["fax", "test", str(tmp_path / "missing.eml")])
    assert result.exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[[profile]]\nname = 'a'\nsender = ['(']\n")
    result = runner.invoke(app, ["fax", "test", str(sample), "--providers", str(bad)])
    assert result.exit_code == 2 and "bad pattern" in result.output
    sample.write_bytes(b"not an email at all")
    result = runner.invoke(app, ["fax", "test", str(sample), "--no-ocr", "--config", str(config)])
    assert result.exit_code == 1 and "Fehler: " in result.output  # German unless configured


def test_every_label_of_fax_test_has_german_words() -> None:
    from hub.cli.fax import LABELS
    from hub.web.i18n import GERMAN

    assert [label for label in LABELS if not GERMAN.get(label)] == []


def test_ocr_readiness_names_the_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.fax import ocr

    assert ocr.problem("deu+eng") is None
    assert "tesseract-ocr-klingon" in (ocr.problem("deu+klingon") or "")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "tesseract-ocr)" in (ocr.problem("deu") or "")
    with pytest.raises(ocr.OcrError, match="not installed"):
        ocr.recognize(PDF, "pdf", "deu")
