"""The card shows everything `kartei contacts show` prints; a company's card lists its
people with their history; the nav search suggests contacts (behind the login); "create
contact" from a call shows the number as people write it (issue 14)."""

from __future__ import annotations

import re

from hub.contacts.service import ContactService
from hub.events.contacts import Address, Phone
from hub.store import EventStore
from tests.web.conftest import Web, client
from tests.web.events import call, email


async def firm(store: EventStore) -> tuple[str, str]:
    contacts = ContactService(store)
    company = await contacts.create(
        {
            "kind": "company",
            "company": "Holzwerk Nord GmbH",
            "phones": (Phone(number="+49308874700", label="switchboard"),),
            "address": Address(street="Hafenstraße 3", postcode="20457", city="Hamburg"),
            "customer_number": "K-2001",
            "tags": ("Großkunde",),
            "owner": "mk",
            "notes": "Zahlt pünktlich.",
        }
    )
    person = await contacts.create(
        {
            "given_name": "Erika",
            "family_name": "Muster",
            "company": "Holzwerk Nord GmbH",
            "company_id": company,
            "emails": ("erika@holzwerk.example",),
            "phones": (Phone(number="+49308874713", label="mobile"),),
        }
    )
    return company, person


async def test_company_card_lists_its_people_and_their_history(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    company, person = await firm(store)
    await email(store, "erika@holzwerk.example", "Angebot Regale", minutes=5)
    await web.settle()
    card = (await http.get(f"/contacts/{company}")).text
    people = card[card.index('class="panel company-people"') :]
    assert f'<a href="/contacts/{person}">Erika Muster</a>' in people
    assert "030 8874713" in people  # her number, as written
    # Her email is in the company's history, naming her.
    entry = re.search(r'<li class="entry kind-email.*?</li>', card, re.S)
    assert entry is not None and "Angebot Regale" in entry.group(0)
    assert f'class="who-chip" href="/contacts/{person}">Erika Muster</a>' in entry.group(0)
    # Everything `kartei contacts show` prints: kind, id, number with its label, address,
    # customer number, tags, owner, notes.
    for shown in (
        "Firma",
        f'value="{company}"',
        "Zentrale",
        "030 887470",
        "Hafenstraße 3",
        "20457 Hamburg",
        "K-2001",
        "Großkunde",
        "mk",
        "Zahlt pünktlich.",
    ):
        assert shown in card, shown
    # Her card links her company.
    mine = (await http.get(f"/contacts/{person}")).text
    assert f'<a href="/contacts/{company}">Holzwerk Nord GmbH</a>' in mine
    # Day separators, in German.
    assert re.search(r'<li class="day"><span>(Heute|Gestern|\w+, \d\d\.\d\d\.\d{4})<', card)


async def test_search_suggests_contacts_to_users_only(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    _, person = await firm(store)
    await web.settle()
    found = (await http.get("/search/suggest", params={"q": "Must"})).json()
    assert found == [
        {
            "name": "Erika Muster",
            "sub": "Holzwerk Nord GmbH · 030 8874713",
            "href": f"/contacts/{person}",
        }
    ]
    assert (await http.get("/search/suggest", params={"q": "887471"})).json()[0]["name"] == (
        "Erika Muster"
    )  # by number, too
    assert (await http.get("/search/suggest", params={"q": "M"})).json() == []
    async with client(web) as anonymous:
        answer = await anonymous.get("/search/suggest", params={"q": "Must"})
        assert answer.status_code in (303, 401) and "Erika" not in answer.text


async def test_create_contact_from_a_call_shows_the_number_as_written(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    await call(store, "+494099990123", answered=False)
    await web.settle()
    form = (await http.get("/contacts/new", params={"phone": "+494099990123"})).text
    assert 'value="040 99990123"' in form and "+494099990123" not in form
