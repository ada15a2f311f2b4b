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


# An iPhone's export (vCard 3.0) whose photo was cut off in transfer: base64 of a length
# no encoder writes. vobject decodes PHOTO while parsing and failed the whole card.
IPHONE = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.4.1//EN\r\n"
    "N:Becker;Jonas;;;\r\nFN:Jonas Becker\r\nORG:Becker Haustechnik GmbH;\r\n"
    "item1.EMAIL;type=INTERNET;type=pref:jonas@becker-haustechnik.de\r\n"
    "item1.X-ABLabel:_$!<Other>!$_\r\n"
    "TEL;type=CELL;type=VOICE;type=pref:+49 171 2345678\r\n"
    "TEL;type=WORK;type=VOICE:030 5556677\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkS\r\n"
    " Ew8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n"
    " IRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCA\r\n"
    "END:VCARD\r\n"
)
# An Android export (vCard 2.1): quoted-printable name, a base64 photo whose last line is
# cut, ended by the blank line 2.1 puts after base64.
ANDROID = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;Sabine;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Sabine=20M=C3=BCller\r\n"
    "TEL;CELL:0172-9998887\r\nEMAIL;HOME:sabine.mueller@example.de\r\n"
    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgF\r\n"
    "  BQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUE\r\n"
    "  BQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARC\r\n"
    "\r\nEND:VCARD\r\n"
)
# A groupware export (Horde/Kolab style): RFC 2426's PROFILE:VCard line, which vobject
# takes for a second component and refused the card for.
GROUPWARE = (
    "BEGIN:VCARD\r\nPROFILE:VCard\r\nVERSION:3.0\r\n"
    "PRODID:-//kolab.org//NONSGML Kolab Server 3//EN\r\n"
    "UID:urn:uuid:5f0c3d1e-8a1b-4c2d-9e3f-0a1b2c3d4e5f\r\n"
    "N:Wagner;Petra;;;\r\nFN:Petra Wagner\r\nORG:Stadtwerke Musterstadt\r\n"
    "EMAIL;TYPE=INTERNET,WORK:p.wagner@stadtwerke.example\r\n"
    "TEL;TYPE=WORK,VOICE:+49 221 445566-12\r\nREV:2024-03-01T10:00:00Z\r\nEND:VCARD\r\n"
)


@pytest.mark.parametrize(
    ("export", "name", "email", "numbers"),
    [
        (IPHONE, ("Jonas", "Becker"), "jonas@becker-haustechnik.de",
         ["+491712345678", "+49305556677"]),
        (ANDROID, ("Sabine", "Müller"), "sabine.mueller@example.de", ["+491729998887"]),
        (GROUPWARE, ("Petra", "Wagner"), "p.wagner@stadtwerke.example", ["+4922144556612"]),
    ],
)  # fmt: skip
def test_a_broken_photo_or_a_profile_line_leaves_the_contact_whole(
    export: str, name: tuple[str, str], email: str, numbers: list[str]
) -> None:
    (record,) = read_vcards(export.encode())
    assert record.error is None
    card, warnings = build_card(record.draft)
    assert (card["given_name"], card["family_name"]) == name
    assert card["emails"] == (email,)
    assert [p.number for p in card["phones"]] == numbers
    assert warnings == []
