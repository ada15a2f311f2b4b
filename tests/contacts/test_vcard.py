"""vCard files: folded lines, non-ASCII names, 2.1 to 4.0, broken cards reported by line."""

from __future__ import annotations

import pytest

from adapters.importers.cards import build_card
from adapters.importers.tabular import FileFormatError
from adapters.importers.vcard import read_vcards

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Hans-Jürgen;;;\r\nFN:Hans-Jürgen Müller\r\n"
    "ORG:Müller & Söhne GmbH\r\nEMAIL;TYPE=INTERNET,WORK:hj@mueller-soehne.de\r\n"
    "TEL;TYPE=WORK,VOICE:+49 (0) 89 1234-0\r\nTEL;TYPE=CELL:0171 1234567\r\n"
    "ADR;TYPE=WORK:;;Hauptstraße 1;München;;80331;Deutsch\r\n land\r\n"
    "NOTE:Ein langer Text, gefaltet mit Umlauten: ä\r\n ö ü ß\r\nCATEGORIES:Stammkunde,VIP\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Praxis Dr. Weber\r\n"
    'TEL;VALUE=uri;TYPE="voice,work":tel:+49-30-555-1234\r\nEND:VCARD\r\n'
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nNOTE:nichts\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Schmidt;Anna\r\nTEL;CELL;WORK:0172 9998887\r\n"
    "TEL;FAX:030 4445556\r\nEND:VCARD\r\n"
)


def test_cards_of_every_version_with_folded_lines() -> None:
    records = read_vcards(CARDS.encode())
    assert [r.line for r in records] == [1, 15, 20, 25]
    card, _ = build_card(records[0].draft)
    assert (card["given_name"], card["family_name"]) == ("Hans-Jürgen", "Müller")
    assert card["company"] == "Müller & Söhne GmbH"
    assert card["address"].country == "Deutschland"
    assert card["notes"] == "Ein langer Text, gefaltet mit Umlauten: äö ü ß"
    assert card["tags"] == ("Stammkunde", "VIP")
    assert [(p.number, p.label) for p in card["phones"]] == [
        ("+498912340", "landline"), ("+491711234567", "mobile")
    ]  # fmt: skip
    weber, _ = build_card(records[1].draft)
    assert weber["kind"] == "company" and weber["phones"][0].number == "+49305551234"
    schmidt, _ = build_card(records[3].draft)
    assert [p.label for p in schmidt["phones"]] == ["mobile", "fax"]


def test_a_card_with_nothing_identifying_fails_alone() -> None:
    from adapters.importers.cards import RowError

    records = read_vcards(CARDS.encode())
    with pytest.raises(RowError):
        build_card(records[2].draft)


def test_cp1252_cards_and_garbage_lines_do_not_crash() -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nN:Groß;Jörg\nFOO\n\x00BAR:;;\nEND:VCARD\nBEGIN:VCARD\nN:X"
    records = read_vcards(text.encode("cp1252"))
    assert len(records) == 2
    card, _ = build_card(records[0].draft)
    assert card["family_name"] == "Groß"
    assert records[1].line == 7


@pytest.mark.parametrize("data", [b"", b"Name;Vorname\nx;y\n"])
def test_files_without_cards_are_refused(data: bytes) -> None:
    with pytest.raises(FileFormatError):
        read_vcards(data)
