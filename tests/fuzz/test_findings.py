"""What the fuzzers (bench/fuzz.py) found, each pinned from the user's side: the input is
read or refused with the parser's own error, and nothing of it is lost."""

from __future__ import annotations

import io
import zipfile

import pytest

from adapters.fax.profiles import ProfileError, load_profiles
from adapters.importers.tabular import FileFormatError, read_csv, read_xlsx
from adapters.mail.parsing import parse_email
from tests.fuzz import targets


def test_a_charset_name_with_a_nul_falls_back_instead_of_failing_the_mail() -> None:
    """ValueError 'embedded null character' from the codec lookup of a body part's
    charset (mail found it in 4 s)."""
    raw = b'From: a@example.com\nContent-Type: text/plain; charset="ut\x00f-8"\n\nHallo'
    mail = parse_email(raw)
    assert mail.text.strip() == "Hallo"


def test_an_encoded_word_with_a_nul_in_its_charset_is_read_as_utf8() -> None:
    mail = parse_email(b"From: a@example.com\nSubject: =?ut\x00f-8?q?Gr=C3=BC=C3=9Fe?=\n\nx")
    assert mail.subject == "Grüße"


def test_a_broken_base64_encoded_word_leaves_the_subject_as_written() -> None:
    """email.header raises HeaderParseError, which is no ValueError (fax found it)."""
    mail = parse_email(b"From: a@example.com\nSubject: Fax =?utf-8?b?QUJDx?=\n\nx")
    assert mail.subject == "Fax =?utf-8?b?QUJDx?="
    assert any("encoded words" in d for d in mail.defects)


@pytest.mark.parametrize("data", [b"\xff\xfeV\x00o\x00r\x00", b"\xfe\xff\x00N\x00a\x00m\x00e\x32"])
def test_a_utf16_export_with_an_odd_byte_is_still_read(data: bytes) -> None:
    """UnicodeDecodeError 'truncated data' for a BOM and an odd length (csv_import)."""
    try:
        table = read_csv(data + "\r\n".encode("utf-16-le"))
    except FileFormatError as err:  # no header row in so little: refused, and said why
        assert err.remark
    else:
        assert table.encoding == "utf-16"


def test_a_damaged_workbook_is_refused_as_unreadable_wherever_the_damage_is() -> None:
    """openpyxl reads a sheet lazily: zlib.error, XML errors and the like came out of the
    row loop uncaught (xlsx_import, hypothesis)."""
    from bench.fuzz import _xlsx

    good = _xlsx()
    with zipfile.ZipFile(io.BytesIO(good)) as book:
        sheet = book.getinfo("xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename) + len(sheet.extra)
    refused = 0
    for at in range(start, start + sheet.compress_size, 3):
        damaged = good[:at] + bytes([good[at] ^ 0x5A]) + good[at + 1 :]
        try:
            read_xlsx(damaged)
        except FileFormatError as err:
            assert "xlsx" in str(err)
            refused += 1
    assert refused  # the damage is noticed, not only survived


def test_a_profile_pattern_with_a_huge_repeat_count_is_a_profile_error() -> None:
    """re.compile raises OverflowError for {99999999999} (fax_profiles)."""
    text = b'[[profile]]\nname = "x"\nsender = ["(?P<number>\\\\d{99999999999})"]\n'
    with pytest.raises(ProfileError, match="bad pattern"):
        load_profiles(targets._Text(text))  # type: ignore[arg-type]


def test_a_boundary_folded_over_two_lines_is_left_to_the_standard_parser() -> None:
    """A 1996 bounce folds its boundary parameter: the quick MIME reader matched the
    boundary across lines, where the standard parser (line by line) finds none, so the
    two trees differed (mime_tree, from the corpus's old mail)."""
    raw = (
        b'Subject: s\nContent-Type: multipart/mixed; boundary="=_ \n 1"\n\n'
        b"--=_ \n 1\n\nhi\n--=_ \n 1--\n"
    )
    targets.mime_tree(raw)
    parse_email(b"From: a@example.com\n" + raw)


def test_a_webhook_body_with_too_many_fields_is_refused_as_a_bad_body() -> None:
    """parse_qsl's ValueError 'Max number of fields exceeded' escaped read_body, so the
    intake answered 500 instead of 400 (webhook)."""
    from adapters.telephony.webhook_parsing import WebhookBodyError, read_body

    body = "&".join(f"f{n}=x" for n in range(101)).encode()
    with pytest.raises(WebhookBodyError, match="more than 100 fields"):
        read_body(body, "application/x-www-form-urlencoded")
    assert read_body(body[: body.index(b"&f100")], "")["f99"] == ["x"]
