"""Pure parsing: headers guessed, cells cleaned, rows turned into cards, files decoded."""

from __future__ import annotations

import contextlib
import io

import openpyxl
import pytest

from adapters.importers.cards import Draft, RowError, build_card
from adapters.importers.columns import MappingError, guess_field, parse_mapping
from adapters.importers.samples import OUTLOOK_HEADER
from adapters.importers.tabular import FileFormatError, read_csv, read_xlsx


def test_every_outlook_export_column_is_understood() -> None:
    fields = {h: guess_field(h) for h in OUTLOOK_HEADER}
    assert fields["Vorname"] == "given_name" and fields["Nachname"] == "family_name"
    assert fields["Telefon Firma"] == "switchboard" and fields["Telefon privat"] == "home_phone"
    assert fields["Mobiltelefon"] == "mobile" and fields["Fax geschäftlich"] == "fax"
    assert fields["E-Mail-Adresse"] == "email" and fields["E-Mail-Typ"] == "ignore"
    assert fields["Postleitzahl geschäftlich"] == "postcode"
    assert fields["Land/Region geschäftlich"] == "country"


@pytest.mark.parametrize(
    ("header", "field"),
    [("First Name", "given_name"), ("Business Phone", "phone"), ("Company", "company"),
     ("E-mail Address", "email"), ("Kd.-Nr.", "customer_number"), ("PLZ", "postcode"),
     ("Straße", "street"), ("Ort", "city"), ("Handy", "mobile"), ("Bemerkung", "notes"),
     ("Name", "name"), ("Organisations-Nr.", "ignore"), ("Lieblingsfarbe", None)],
)  # fmt: skip
def test_common_german_and_english_headers(header: str, field: str | None) -> None:
    assert guess_field(header) == field


def test_a_mapping_names_known_fields_only() -> None:
    assert parse_mapping(["Kd. Nr.=customer_number"]) == {"kdnr": "customer_number"}
    with pytest.raises(MappingError, match="unknown field"):
        parse_mapping(["Tel=telephone"])
    with pytest.raises(MappingError, match="COLUMN=FIELD"):
        parse_mapping(["customer_number"])


def draft(**values: str) -> Draft:
    d = Draft()
    for name, value in values.items():
        d.add(name, value)
    return d


def test_placeholders_are_empty_and_bad_values_are_warnings() -> None:
    card, warnings = build_card(
        draft(name="Schulz, Anna", phone="n/a", mobile="+49 (0) 171 2345678", email="kaputt",
              fax="0301234-99 ext. 7", city="-")
    )  # fmt: skip
    assert (card["given_name"], card["family_name"]) == ("Anna", "Schulz")
    assert [p.number for p in card["phones"]] == ["+491712345678", "+4930123499"]
    assert [str(w) for w in warnings] == ["email 'kaputt' is not an address; left out"]
    assert "address" not in card


def test_a_firm_name_in_the_name_column_makes_a_company() -> None:
    card, _ = build_card(draft(name="Bäckerei Schulz GmbH", phone="030 1234-0"))
    assert card["kind"] == "company" and card["company"] == "Bäckerei Schulz GmbH"


def test_a_row_without_anything_identifying_is_an_error() -> None:
    with pytest.raises(RowError, match="no name"):
        build_card(draft(phone="keine", notes="nur eine Notiz"))


def test_a_mobile_in_the_phone_column_is_labelled_mobile() -> None:
    card, _ = build_card(draft(name="Anna Schulz", phone="0171 2345678"))
    assert card["phones"][0].label == "mobile"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8", "utf-16"])
def test_csv_in_every_encoding_excel_writes(encoding: str) -> None:
    text = "Vorname;Nachname;Ort\r\nJürgen;Groß;München\r\n"
    table = read_csv(text.encode(encoding))
    record = table.records[0]
    assert record.draft.values == {
        "given_name": ["Jürgen"], "family_name": ["Groß"], "city": ["München"]
    }  # fmt: skip


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Name", "Firma", "Telefon"]) + "\n"
    text += delimiter.join(["Anna Schulz", '"Schulz; Söhne, GmbH"', "030 123"]) + "\n"
    table = read_csv(text.encode())
    assert table.delimiter == delimiter
    assert table.records[0].draft.values["company"] == ["Schulz; Söhne, GmbH"]


def test_title_rows_above_the_header_and_multiline_cells_keep_line_numbers() -> None:
    text = (
        "Kundenliste Stand 2024;;\n;;\nName;E-Mail;Notizen\n"
        'Anna Schulz;anna@x.de;"zwei\nZeilen"\nJörg Meier;joerg@x.de;\n'
    )
    table = read_csv(text.encode())
    assert table.header_line == 3
    assert [r.line for r in table.records] == [4, 6]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"\n\n;;\n", "no rows"), (b"a;b;c\n1;2;3\n", "no header row")],
)
def test_unusable_files_say_why(data: bytes, message: str) -> None:
    with pytest.raises(FileFormatError, match=message):
        read_csv(data)


def test_a_mapped_column_must_exist() -> None:
    with pytest.raises(MappingError, match="kdnr"):
        read_csv(b"Name;Firma\nAnna;X\n", parse_mapping(["KdNr=customer_number"]))


def xlsx(rows: list[list[object]], merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_merged_header_cells_and_numeric_cells() -> None:
    data = xlsx(
        [["Kontakt", None, "Adresse", None, None],
         ["Vorname", "Nachname", "Straße", "PLZ", "Telefon"],
         ["Anna", "Schulz", "Hauptstr. 1", 10115, 301234567.0]],
        merge="C1:E1",
    )  # fmt: skip
    table = read_xlsx(data)
    assert table.header_line == 2
    card, _ = build_card(table.records[0].draft)
    assert card["address"].postcode == "10115"
    assert card["phones"][0].number == "+49301234567"


def test_a_broken_workbook_is_a_format_error() -> None:
    with pytest.raises(FileFormatError, match="xlsx"):
        read_xlsx(b"PK\x03\x04 this is no workbook")


@pytest.mark.parametrize("seed", range(30))
def test_random_bytes_never_crash_the_readers(seed: int) -> None:
    """Garbage in any reader ends as a clear error or as per-row results, never a crash."""
    import random

    from adapters.importers.vcard import read_vcards

    rng = random.Random(seed)
    alphabet = b'Name;Vorname;E-Mail;Telefon\n\r,"\t\x00\xff\xfe:BEGIN:VCARD\nEND:VCARD\n0123+'
    data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
    for reader in (read_csv, read_vcards, read_xlsx):
        try:
            records = reader(data)
        except FileFormatError:
            continue
        records = records.records if hasattr(records, "records") else records
        for record in records:
            if record.draft is not None:
                with contextlib.suppress(RowError):
                    build_card(record.draft)
