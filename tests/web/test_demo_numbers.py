"""The demo firm's phone numbers are numbers that can exist, so its cards show them as a
German office writes them ("0151 28275367"), not as raw E.164 ("+491518275367")."""

from __future__ import annotations

import random
import re

import httpx
import phonenumbers

from hub.contacts.decisions import create
from hub.demo import customers
from hub.demo.persons import persons, unknown_numbers
from hub.events import Metadata, NewEvent
from hub.store import EventStore
from tests.web.conftest import Web

# Area code or mobile prefix with its trunk 0, one space, then the number; "-" before an
# extension (the written form, DIN 5008).
NATIONAL = re.compile(r"0\d{2,4} \d[\d ]*(-\d+)?")


def test_every_demo_number_is_a_valid_german_number() -> None:
    people = customers()
    numbers = [p.number for _, card in people for p in card.get("phones", ())]
    strangers = unknown_numbers(persons(people), random.Random(1), count=50)
    invalid = [
        n for n in numbers + strangers if not phonenumbers.is_valid_number(phonenumbers.parse(n))
    ]
    assert numbers and not invalid


async def test_demo_cards_show_every_number_in_national_form(
    web: Web, store: EventStore, admin: tuple[httpx.AsyncClient, str]
) -> None:
    """One card per kind of number the demo makes: each mobile prefix, home, switchboard,
    fax and direct lines."""
    http, _ = admin
    shown = _one_card_per_kind_of_number()
    await _add(store, {contact_id for contact_id, _ in shown})
    await web.settle()
    for contact_id, number in shown:
        page = (await http.get(f"/contacts/{contact_id}")).text
        link = re.search(rf'href="tel:\{number}">([^<]*)</a>', page)
        assert link is not None, number
        assert NATIONAL.fullmatch(link.group(1)), (number, link.group(1))
        assert number not in re.sub(r'href="tel:[^"]*"', "", page)  # nowhere as raw E.164


def _one_card_per_kind_of_number() -> list[tuple[str, str]]:
    """A contact id and number for each (label, prefix) the demo uses."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for contact_id, card in customers():
        for phone in card.get("phones", ()):
            seen.setdefault((phone.label, phone.raw[:4]), (contact_id, phone.number))
    return list(seen.values())


async def _add(store: EventStore, contact_ids: set[str]) -> None:
    cards, meta = dict(customers()), Metadata(source="demo")
    async with store.transaction() as tx:
        for contact_id in contact_ids:
            event = NewEvent(create(contact_id, cards[contact_id]), f"demo:{contact_id}", meta)
            await tx.append(f"contact-{contact_id}", None, [event])
