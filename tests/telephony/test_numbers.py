"""Numbers as phone systems send them: international ones without "+" or "00" (sipgate,
Zammad-style CTI, SIP trunks) next to national ones, read the way the firm's callers are
stored, and resolved by the identity index as the screen pop and `kartei contacts lookup`
ask it (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.phone import normalize, readings
from tests.contacts.conftest import Directory, contacts, phone

__all__ = ["contacts"]  # the fixture, imported for pytest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # International without "+": the digits begin with Germany's country code.
        ("491518275367", "+491518275367"),
        ("4915791234567", "+4915791234567"),
        ("492111234567", "+492111234567"),
        ("493055571600", "+493055571600"),
        ("49221470334", "+49221470334"),
        # ... or with another country's code, where only that reading is a valid number.
        ("12025550123", "+12025550123"),
        # As before: "+", "00", the trunk 0, and local numbers completed with the area code.
        ("00491518275367", "+491518275367"),
        ("+49 151 8275367", "+491518275367"),
        ("0151 8275367", "+491518275367"),
        ("01518275367", "+491518275367"),
        ("5550123", "+49305550123"),
        # A national number without its trunk 0 whose digits make no valid foreign number.
        ("301234567", "+49301234567"),
        ("2211234567", "+492211234567"),
    ],
)
def test_the_likeliest_reading_first(raw: str, expected: str) -> None:
    assert normalize(raw, "DE", "30") == expected
    assert readings(raw, "DE", "30")[0] == expected


def test_an_ambiguous_number_keeps_its_other_reading() -> None:
    # "491518275367" is also Leer (0491) 518275367 to phonenumbers.
    assert readings("491518275367", "DE") == ("+491518275367", "+49491518275367")
    assert readings("+491518275367", "DE") == ("+491518275367",)
    assert readings("anonymous", "DE") == () and normalize("anonymous") is None


@pytest.fixture
async def mobile_and_leer(contacts: Directory) -> Directory:
    await contacts.service.create(
        {
            "given_name": "Erika",
            "family_name": "Mobil",
            "phones": (phone("0151 8275367", "mobile"),),
        }
    )
    await contacts.service.create(
        {"given_name": "Hinrich", "family_name": "Leer", "phones": (phone("0491 9876543"),)}
    )
    await contacts.sync()
    return contacts


@pytest.mark.parametrize(
    "raw", ["491518275367", "00491518275367", "+491518275367", "0151 8275367", "01518275367"]
)
async def test_a_mobile_caller_in_every_form_phone_systems_send(
    mobile_and_leer: Directory, raw: str
) -> None:
    async with mobile_and_leer.store.db.read() as conn:
        match = await mobile_and_leer.identity.lookup_number(conn, raw)
    assert match is not None, raw
    assert (match.display_name, match.how, match.number) == (
        "Erika Mobil",
        "exact",
        "+491518275367",
    )


async def test_a_national_number_sent_without_its_trunk_zero_still_resolves(
    mobile_and_leer: Directory,
) -> None:
    """ "4919876543" reads first as +49 19876543; the index tries 0491 9876543 next."""
    async with mobile_and_leer.store.db.read() as conn:
        match = await mobile_and_leer.identity.lookup_number(conn, "4919876543")
        unknown = await mobile_and_leer.identity.lookup_number(conn, "491518275368")
    assert match is not None and match.display_name == "Hinrich Leer"
    assert match.number == "+494919876543"
    assert unknown is None


def test_kartei_contacts_lookup_reads_what_a_pbx_sends(tmp_path: Path) -> None:
    """`kartei contacts lookup 491518275367` answered "unknown caller" for a mobile stored
    as 0151 8275367."""
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0
    config = str(tmp_path / "kartei.toml")
    card = tmp_path / "erika.vcf"
    card.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Mobil;Erika;;;\r\nFN:Erika Mobil\r\n"
        "TEL;TYPE=CELL:0151 8275367\r\nEND:VCARD\r\n"
    )
    done = runner.invoke(app, ["import", str(card), "--config", config])
    assert done.exit_code == 0, done.output
    for sent in ("491518275367", "00491518275367"):
        found = runner.invoke(app, ["contacts", "lookup", sent, "--json", "--config", config])
        assert found.exit_code == 0, found.output
        match = json.loads(found.output)
        assert match is not None, sent
        assert (match["display_name"], match["number"]) == ("Erika Mobil", "+491518275367")
