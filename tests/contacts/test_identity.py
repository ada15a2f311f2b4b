"""The identity index resolves what phone systems and mail servers really send."""

from __future__ import annotations

import pytest

from hub.contacts.keys import normalize_email
from tests.contacts.conftest import Directory, phone


@pytest.fixture
async def firm(contacts: Directory) -> Directory:
    company = await contacts.service.create(
        {
            "kind": "company",
            "company": "Bäckerei Schulz GmbH",
            "customer_number": "K-1001",
            "phones": (phone("+49 30 5550-0", "switchboard"),),
        }
    )
    await contacts.service.create(
        {
            "given_name": "Anna",
            "family_name": "Schulz",
            "company": "Bäckerei Schulz GmbH",
            "company_id": company,
            "emails": ("Anna.Schulz@Baeckerei-Schulz.de",),
            "phones": (phone("030 5550-56"), phone("0171 5551234", "mobile")),
        }
    )
    await contacts.service.create(
        {"given_name": "Jörg", "family_name": "Meier", "phones": (phone("0301234567"),)}
    )
    await contacts.sync()
    return contacts


@pytest.mark.parametrize(
    "raw",
    [
        "0301234567",
        "+49 30 1234567",
        "004930 1234567",
        "030/123 45 67",
        "+49 (0) 30 1234567",
        "1234567",
        "030 1234567 ext. 12",
        "+49 30 1234567;ext=12",
        "030-1234567 DW 3",
    ],
)
async def test_a_persons_number_in_every_spelling(firm: Directory, raw: str) -> None:
    async with firm.store.db.read() as conn:
        match = await firm.identity.lookup_number(conn, raw)
    assert match is not None
    assert (match.display_name, match.how) == ("Jörg Meier", "exact")


async def test_a_persons_direct_dial_beats_the_switchboard(firm: Directory) -> None:
    async with firm.store.db.read() as conn:
        match = await firm.identity.lookup_number(conn, "+49 30 5550-56")
    assert match is not None
    assert (match.display_name, match.how, match.company) == (
        "Anna Schulz",
        "exact",
        "Bäckerei Schulz GmbH",
    )


@pytest.mark.parametrize("raw", ["+49 30 5550-0", "+49 30 5550-77", "0305550999", "030 5550-5"])
async def test_switchboard_and_other_extensions_match_the_company(
    firm: Directory, raw: str
) -> None:
    async with firm.store.db.read() as conn:
        match = await firm.identity.lookup_number(conn, raw)
    assert match is not None
    assert match.display_name == "Bäckerei Schulz GmbH"
    assert match.customer_number == "K-1001"
    assert match.how == ("exact" if raw.endswith("-0") else "switchboard")


@pytest.mark.parametrize("raw", ["", "n/a", "unbekannt", "+49 40 1234567", "030 9999999", "+1"])
async def test_unknown_and_garbage_numbers_match_nobody(firm: Directory, raw: str) -> None:
    async with firm.store.db.read() as conn:
        assert await firm.identity.lookup_number(conn, raw) is None


async def test_mobile_numbers_are_never_switchboards(firm: Directory) -> None:
    async with firm.store.db.read() as conn:
        assert (await firm.identity.lookup_number(conn, "0171 5551234")).how == "exact"
        assert await firm.identity.lookup_number(conn, "0171 555123456") is None


@pytest.mark.parametrize(
    "address",
    [
        "anna.schulz@baeckerei-schulz.de",
        "ANNA.SCHULZ@BAECKEREI-SCHULZ.DE",
        " <Anna.Schulz@baeckerei-schulz.de> ",
        "mailto:anna.schulz@baeckerei-schulz.de",
    ],
)
async def test_email_lookup_ignores_case_and_wrapping(firm: Directory, address: str) -> None:
    async with firm.store.db.read() as conn:
        match = await firm.identity.lookup_email(conn, address)
    assert match is not None
    assert (match.display_name, match.how) == ("Anna Schulz", "email")


async def test_unknown_or_broken_addresses_match_nobody(firm: Directory) -> None:
    async with firm.store.db.read() as conn:
        for address in ["someone@else.de", "not an address", "", "@x.de", "a@b"]:
            assert await firm.identity.lookup_email(conn, address) is None


async def test_a_changed_number_moves_in_the_index(firm: Directory) -> None:
    async with firm.store.db.read() as conn:
        joerg = await firm.identity.lookup_number(conn, "0301234567")
    await firm.service.change(joerg.contact_id, {"phones": (phone("089 777888"),)})
    await firm.sync()
    async with firm.store.db.read() as conn:
        assert await firm.identity.lookup_number(conn, "0301234567") is None
        moved = await firm.identity.lookup_number(conn, "+49 89 777888")
    assert moved is not None and moved.contact_id == joerg.contact_id


async def test_after_a_merge_the_duplicates_number_finds_the_survivor(
    firm: Directory,
) -> None:
    duplicate = await firm.service.create(
        {
            "given_name": "J.",
            "family_name": "Meier",
            "emails": ("joerg@meier.de",),
            "phones": (phone("040 555666"),),
        }
    )
    await firm.sync()
    async with firm.store.db.read() as conn:
        joerg = await firm.identity.lookup_number(conn, "0301234567")
    await firm.service.merge(joerg.contact_id, duplicate)
    await firm.sync()
    async with firm.store.db.read() as conn:
        by_number = await firm.identity.lookup_number(conn, "040 555666")
        by_email = await firm.identity.lookup_email(conn, "joerg@meier.de")
    assert by_number.contact_id == by_email.contact_id == joerg.contact_id
    assert by_number.display_name == "Jörg Meier"
    # The batch lookup (the timeline's) gives the same answers as one address at a time.
    addresses = ["joerg@meier.de", "ANNA.SCHULZ@baeckerei-schulz.de", "someone@else.de", "x"]
    async with firm.store.db.read() as conn:
        batch = await firm.identity.contacts_by_email(conn, addresses)
        one_by_one = {
            address: match.contact_id
            for address in addresses
            if (match := await firm.identity.lookup_email(conn, address)) is not None
        }
    assert batch == {normalize_email(a): c for a, c in one_by_one.items()}
    assert batch["joerg@meier.de"] == joerg.contact_id and len(batch) == 2


async def test_rebuilding_the_index_gives_the_same_answers(firm: Directory) -> None:
    await firm.runners[1].rebuild()
    async with firm.store.db.read() as conn:
        assert (await firm.identity.lookup_number(conn, "+49 30 5550-77")).how == "switchboard"
        assert await firm.identity.lookup_email(conn, "anna.schulz@baeckerei-schulz.de")


async def test_a_huge_caller_string_is_refused_quickly(firm: Directory) -> None:
    async with firm.store.db.read() as conn:
        assert await firm.identity.lookup_number(conn, "0" + " " * 100_000 + "x1") is None
