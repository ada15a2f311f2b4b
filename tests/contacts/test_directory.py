"""The directory read model, search and merge, on both databases."""

from __future__ import annotations

import pytest

from hub.contacts import ContactError
from hub.events.contacts import Address
from hub.store.errors import ConcurrencyError
from tests.contacts.conftest import Directory, phone


@pytest.fixture
async def people(contacts: Directory) -> dict[str, str]:
    ids = {
        "anna": await contacts.service.create(
            {"given_name": "Anna", "family_name": "Müller", "company": "Elektro Weiß GmbH",
             "emails": ("anna@elektro-weiss.de",), "phones": (phone("030 3344556"),),
             "address": Address(street="Torstraße 5", postcode="10119", city="Berlin"),
             "notes": "Wartungsvertrag Aufzug", "tags": ("Stammkunde",),
             "customer_number": "K-4711", "owner": "mk", "language": "de"}
        ),
        "jorg": await contacts.service.create(
            {"given_name": "Jörg", "family_name": "Groß", "phones": (phone("089 1234567"),),
             "address": Address(city="München")}
        ),
        "dup": await contacts.service.create(
            {"given_name": "A.", "family_name": "Mueller", "emails": ("a.mueller@web.de",),
             "phones": (phone("0171 9876543", "mobile"),), "notes": "privat"}
        ),
    }  # fmt: skip
    await contacts.sync()
    return ids


async def test_a_card_has_every_field(contacts: Directory, people: dict[str, str]) -> None:
    async with contacts.store.db.read() as conn:
        anna = await contacts.directory.get(conn, people["anna"])
        assert await contacts.directory.get(conn, "nobody") is None
    assert anna.display_name == "Anna Müller" and anna.company == "Elektro Weiß GmbH"
    assert anna.phones[0].number == "+49303344556" and anna.address.city == "Berlin"
    assert (anna.customer_number, anna.owner, anna.language, anna.tags) == (
        "K-4711", "mk", "de", ("Stammkunde",)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("query", "who"),
    [("anna", {"anna"}), ("müller", {"anna"}), ("mueller", {"anna", "dup"}),
     ("muller", {"anna"}), ("munchen", {"jorg"}), ("torstrasse", {"anna"}),
     ("weiss", {"anna"}), ("elektro-weiss.de", {"anna"}), ("3344", {"anna"}),
     ("030 33 44", {"anna"}), ("+49 30 334", {"anna"}), ("München", {"jorg"}),
     ("gross", {"jorg"}), ("aufzug", {"anna"}), ("K-4711", {"anna"}), ("an mü", {"anna"}),
     ("Stammkunde Berlin", {"anna"}), ("xyz", set()), ("", set()), ("'\"%_*", set())],
)  # fmt: skip
async def test_search_finds_any_fragment(
    contacts: Directory, people: dict[str, str], query: str, who: set[str]
) -> None:
    async with contacts.store.db.read() as conn:
        found = await contacts.directory.search(conn, query)
    assert {c.contact_id for c in found} == {people[name] for name in who}


async def test_a_change_needs_the_version_it_was_decided_on(
    contacts: Directory, people: dict[str, str]
) -> None:
    version = await contacts.service.change(people["jorg"], {"notes": "neu"}, expected_version=1)
    assert version == 2
    assert await contacts.service.change(people["jorg"], {"notes": "neu"}) == 2  # no-op
    with pytest.raises(ConcurrencyError):
        await contacts.service.change(people["jorg"], {"notes": "alt"}, expected_version=1)
    with pytest.raises(ContactError, match="unknown contact fields"):
        await contacts.service.change(people["jorg"], {"shoe_size": 44})


async def test_merge_moves_the_duplicate_to_the_survivor(
    contacts: Directory, people: dict[str, str]
) -> None:
    survivor = await contacts.service.merge(people["anna"], people["dup"], actor="mk")
    await contacts.sync()
    assert survivor.emails == ("anna@elektro-weiss.de", "a.mueller@web.de")
    assert survivor.notes == "Wartungsvertrag Aufzug"  # kept, not overwritten
    async with contacts.store.db.read() as conn:
        dup = await contacts.directory.get(conn, people["dup"])
        resolved = await contacts.directory.resolve(conn, people["dup"])
        found = await contacts.directory.search(conn, "mueller")
    assert dup.merged_into == people["anna"] and resolved.contact_id == people["anna"]
    assert [c.contact_id for c in found] == [people["anna"]]


async def test_merges_that_cannot_be(contacts: Directory, people: dict[str, str]) -> None:
    with pytest.raises(ContactError, match="itself"):
        await contacts.service.merge(people["anna"], people["anna"])
    with pytest.raises(ContactError, match="no contact"):
        await contacts.service.merge(people["anna"], "nobody")
    await contacts.service.merge(people["anna"], people["dup"])
    with pytest.raises(ContactError, match="was merged into"):
        await contacts.service.merge(people["jorg"], people["dup"])


async def test_a_chain_of_merges_points_at_the_last_survivor(
    contacts: Directory, people: dict[str, str]
) -> None:
    await contacts.service.merge(people["anna"], people["dup"])
    await contacts.service.merge(people["jorg"], people["anna"])
    await contacts.sync()
    async with contacts.store.db.read() as conn:
        dup = await contacts.directory.get(conn, people["dup"])
        match = await contacts.identity.lookup_number(conn, "0171 9876543")
    assert dup.merged_into == people["jorg"] and match.contact_id == people["jorg"]


async def test_a_rebuild_yields_the_same_directory(
    contacts: Directory, people: dict[str, str]
) -> None:
    await contacts.service.merge(people["anna"], people["dup"])
    await contacts.sync()
    async with contacts.store.db.read() as conn:
        before = [await contacts.directory.get(conn, i) for i in people.values()]
    await contacts.runners[0].rebuild()
    async with contacts.store.db.read() as conn:
        after = [await contacts.directory.get(conn, i) for i in people.values()]
        assert len(await contacts.directory.search(conn, "3344")) == 1
    assert before == after


@pytest.mark.parametrize("query", ["e", "mue"])
async def test_search_stops_at_the_limit(
    contacts: Directory, people: dict[str, str], query: str
) -> None:
    async with contacts.store.db.read() as conn:
        assert len(await contacts.directory.search(conn, query, limit=1)) == 1
