"""The demo's customers as the history script needs them: who, how to reach, who owns them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from hub.contacts.model import display_name
from hub.demo.people import Card
from hub.phone import normalize

MOBILE_PREFIXES = ("+4915", "+4916", "+4917")


@dataclass(frozen=True, slots=True)
class Person:
    """One customer: name, first address, phone numbers (E.164, no fax), fax as written."""

    contact_id: str
    name: str
    email: str
    phones: tuple[str, ...]
    fax: str | None
    owner: str
    company: str  # the firm a person works for, or the company itself; "" for private

    @property
    def mobile(self) -> str | None:
        return next((p for p in self.phones if p.startswith(MOBILE_PREFIXES)), None)

    @property
    def sipgate_number(self) -> str:
        """How sipgate.io sends this person's number: E.164 digits without "+"."""
        return (self.mobile or self.phones[0]).removeprefix("+")


def persons(people: Sequence[tuple[str, Card]]) -> list[Person]:
    """The cards that can write and call (every generated card has an address and a phone)."""
    return [person(contact_id, card) for contact_id, card in people]


def person(contact_id: str, card: Card) -> Person:
    phones = card.get("phones", ())
    company = card.get("company", "")
    return Person(
        contact_id,
        display_name(card.get("given_name", ""), card.get("family_name", ""), company),
        card["emails"][0],
        tuple(p.number for p in phones if p.label != "fax"),
        next((p.raw for p in phones if p.label == "fax"), None),
        card.get("owner", ""),
        company,
    )


def box_number(e164: str) -> str:
    """A number as a German FRITZ!Box reports it: national digits with the leading 0."""
    return "0" + e164.removeprefix("+49") if e164.startswith("+49") else e164


def unknown_numbers(people: Sequence[Person], rng: random.Random, count: int = 12) -> list[str]:
    """Numbers no customer has (strangers, wrong numbers, sales calls), in E.164."""
    known = {n for p in people for n in p.phones}
    found: list[str] = []
    while len(found) < count:
        raw = rng.choice(
            (f"030 9{rng.randint(100000, 999999)}", f"0176 {rng.randint(10**7, 10**8 - 1)}")
        )
        number = normalize(raw, "DE")
        if number and number not in known and number not in found:
            found.append(number)
    return found
