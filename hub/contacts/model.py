"""A contact's state, folded from its events; pure, shared by the aggregate and read models."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from hub.events import Event
from hub.events.contacts import (
    Address,
    ConsentRecorded,
    ContactChanged,
    ContactCreated,
    ContactsMerged,
    Phone,
    SignatureNumberFound,
    SignatureNumberRemoved,
)
from hub.events.privacy import ContactErased

# The fields a card has; ContactCreated and ContactChanged carry the same names.
CARD_FIELDS = (
    "kind",
    "given_name",
    "family_name",
    "company",
    "emails",
    "phones",
    "address",
    "notes",
    "customer_number",
    "tags",
    "owner",
    "language",
    "company_id",
)


def new_contact_id() -> str:
    """A short, unique contact id (16 hex digits of a UUID4)."""
    return uuid.uuid4().hex[:16]


def stream_of(contact_id: str) -> str:
    return f"contact-{contact_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    """What a contact said about one channel (email, phone, fax, letter), and where."""

    channel: str
    state: str = "unknown"  # unknown, allowed, blocked
    source: str = ""
    given_on: str = ""  # ISO date
    by: str | None = None

    @property
    def blocked(self) -> bool:
        return self.state == "blocked"


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A contact's card as of some version of its stream."""

    contact_id: str
    version: int = 0
    kind: str = "person"
    given_name: str = ""
    family_name: str = ""
    company: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[Phone, ...] = ()
    address: Address | None = None
    notes: str = ""
    customer_number: str | None = None
    tags: tuple[str, ...] = ()
    owner: str | None = None
    language: str | None = None
    company_id: str | None = None
    merged_into: str | None = None
    # Numbers offered from email signatures ("from signature"); not part of the card's
    # edited fields, so an edit of the card neither drops nor adopts them.
    signature_phones: tuple[Phone, ...] = ()
    erased: bool = False  # ContactErased: the card keeps its id and nothing else
    # Consent per channel, as last recorded (ConsentRecorded); a channel not here: unknown.
    consent: tuple[Consent, ...] = ()

    def consent_for(self, channel: str) -> Consent:
        return next((c for c in self.consent if c.channel == channel), Consent(channel=channel))

    def blocked(self, *channels: str) -> tuple[Consent, ...]:
        """The given channels this contact asked not to be contacted on."""
        return tuple(c for ch in channels if (c := self.consent_for(ch)).blocked)

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def offered_phones(self) -> tuple[Phone, ...]:
        """Signature numbers the card does not already have as staff-entered numbers."""
        own = {p.number for p in self.phones}
        return tuple(p for p in self.signature_phones if p.number not in own)

    @property
    def display_name(self) -> str:
        return display_name(self.given_name, self.family_name, self.company)

    @property
    def name(self) -> str:
        """The name the card is shown under (same as `display_name`)."""
        return self.display_name

    def card(self) -> dict[str, object]:
        """The card's fields by name (as ContactCreated takes them)."""
        return {name: getattr(self, name) for name in CARD_FIELDS}


def display_name(given: str, family: str, company: str) -> str:
    """ "Anna Schmidt", or the company's name for a company card."""
    return " ".join(part for part in (given, family) if part) or company or "(ohne Namen)"


# The events `evolve` folds into a card: what a reader of whole cards asks the log for.
CARD_EVENT_TYPES = (
    "ContactCreated",
    "ContactChanged",
    "ContactsMerged",
    "SignatureNumberFound",
    "SignatureNumberRemoved",
    "ContactErased",
    "ConsentRecorded",
)


def evolve(contact: Contact, event: Event, version: int | None = None) -> Contact:
    """The contact after one of its events."""
    next_version = contact.version + 1 if version is None else version
    match event:
        case ContactCreated():
            return dataclasses.replace(contact, version=next_version, **_values(event, False))
        case ContactChanged():
            return dataclasses.replace(contact, version=next_version, **_values(event, True))
        case ContactsMerged(survivor_id=survivor, merged_id=merged) if merged == contact.contact_id:
            return dataclasses.replace(contact, version=next_version, merged_into=survivor)
        case SignatureNumberFound(number=number, label=label) if number:
            offered = _without(contact.signature_phones, number)
            offered += (Phone(number=number, label=label),)
            return dataclasses.replace(contact, version=next_version, signature_phones=offered)
        case ContactErased():
            blank = Contact(contact_id=contact.contact_id, merged_into=contact.merged_into)
            return dataclasses.replace(blank, version=next_version, erased=True)
        case ConsentRecorded(channel=channel):
            said = Consent(
                channel=channel,
                state=event.state,
                source=event.source,
                given_on=event.given_on,
                by=event.by,
            )
            kept = tuple(c for c in contact.consent if c.channel != channel)
            if event.state != "unknown" or event.source:
                kept += (said,)
            return dataclasses.replace(contact, version=next_version, consent=kept)
        case SignatureNumberRemoved(number=number):
            offered = _without(contact.signature_phones, number)
            return dataclasses.replace(contact, version=next_version, signature_phones=offered)
    return dataclasses.replace(contact, version=next_version)


def fold(contact_id: str, events: list[Event]) -> Contact:
    """A contact from its stream's events."""
    contact = Contact(contact_id=contact_id)
    for event in events:
        contact = evolve(contact, event)
    return contact


def _without(phones: tuple[Phone, ...], number: str) -> tuple[Phone, ...]:
    return tuple(p for p in phones if p.number != number)


def _values(event: ContactCreated | ContactChanged, skip_none: bool) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in CARD_FIELDS}
    if skip_none:
        values = {k: v for k, v in values.items() if v is not None}
    # "" clears an optional field in a change.
    for name in ("customer_number", "owner", "language", "company_id"):
        if values.get(name) == "":
            values[name] = None
    return values
