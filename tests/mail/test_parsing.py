"""The pure parser on messages written for the tests and on the real-world corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mail.parsing import MailParseError, capture_key, parse_email
from tests.mail import messages

CORPUS = sorted(Path(__file__).resolve().parents[3].joinpath("shared/corpus/emails").glob("*.msg"))


def test_simple_message_fields() -> None:
    mail = parse_email(messages.simple(1, attachment=b"%PDF-1.4 data"))
    assert mail.sender == "mueller@kunde.example"
    assert mail.sender_name == "Kunde Müller"
    assert mail.to == ("info@firma.example",)
    assert mail.message_id == "<msg-1@kunde.example>"
    assert "Rückruf" in mail.text
    assert mail.date is not None and mail.date.year == 2025
    [attachment] = mail.attachments
    assert attachment.name == "Rechnung März.pdf"
    assert attachment.data == b"%PDF-1.4 data"


def test_html_only_gives_text_without_scripts() -> None:
    mail = parse_email(messages.html_only())
    assert mail.subject == "Bestellbestätigung"
    assert "Ihre Bestellung" in mail.text and "ist unterwegs" in mail.text
    assert "alert" not in mail.text and "p{}" not in mail.text
    assert mail.html is not None and "<script>" in mail.html  # kept raw; sanitized on display


def test_legacy_and_unknown_charsets_and_signature_numbers() -> None:
    mail = parse_email(messages.CP1252)
    assert mail.sender_name == "Jürgen Weiß"
    assert "ärgerlich" in mail.text
    assert mail.signature_numbers == ("phone:030 1234567", "fax:+49 (30) 1234568")


def test_calendar_tnef_and_bounce_parts_are_attachments() -> None:
    names = [a.name for a in parse_email(messages.CALENDAR).attachments]
    assert names == ["invite.ics", "winmail.dat"]
    bounce = parse_email(messages.BOUNCE)
    assert "Could not deliver" in bounce.text
    assert {a.content_type for a in bounce.attachments} >= {"message/delivery-status"}


def test_huge_headers_are_bounded() -> None:
    mail = parse_email(messages.huge_header())
    assert len(mail.subject) <= 998


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n", b"no headers at all, just text", b"\x00\xff" * 50]
)
def test_garbage_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_email(raw)


def test_capture_key_ignores_delivery_headers_but_not_the_body() -> None:
    one = messages.simple(1)
    twice = b"Delivered-To: other@firma.example\r\n" + one
    assert capture_key(one, "<msg-1@kunde.example>") == capture_key(twice, "<msg-1@kunde.example>")
    reused = messages.simple(1, body="Ganz andere Nachricht\n")
    assert capture_key(reused, "<msg-1@kunde.example>") != capture_key(one, "<msg-1@kunde.example>")


def test_corpus_is_present() -> None:
    assert len(CORPUS) >= 50


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_parses_or_fails_cleanly(path: Path) -> None:
    try:
        mail = parse_email(path.read_bytes())
    except MailParseError:
        return
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
