"""The contact directory's facts: contacts created, changed and merged (stream ``contact-<id>``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hub.events.base import Event

PHONE_LABELS = ("landline", "mobile", "fax", "switchboard", "home", "other")


@dataclass(frozen=True, slots=True, kw_only=True)
class Phone:
    """A labelled phone or fax number, in E.164 (``raw`` keeps what was typed, e.g. "-0")."""

    number: str
    label: str = "landline"
    raw: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A postal address."""

    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""


# Fields a person's data is in; sealed with the contact's key (crypto-shredding).
_PERSONAL = frozenset(
    {"given_name", "family_name", "company", "emails", "phones", "address", "notes"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactCreated(Event):
    """A contact (person or company) was added to the directory."""

    personal_fields: ClassVar[frozenset[str]] = _PERSONAL

    contact_id: str
    kind: str = "person"  # person, company
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
    company_id: str | None = None  # the company contact a person belongs to

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactChanged(Event):
    """Some of a contact's fields changed; None means unchanged, lists are replaced whole."""

    personal_fields: ClassVar[frozenset[str]] = _PERSONAL

    contact_id: str
    kind: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    company: str | None = None
    emails: tuple[str, ...] | None = None
    phones: tuple[Phone, ...] | None = None
    address: Address | None = None
    notes: str | None = None
    customer_number: str | None = None
    tags: tuple[str, ...] | None = None
    owner: str | None = None
    language: str | None = None
    company_id: str | None = None

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactsMerged(Event):
    """A duplicate was merged into the survivor; its history follows the survivor.

    Appended to the merged contact's stream; the survivor's stream gets a ContactChanged
    with what it took over.
    """

    survivor_id: str
    merged_id: str
    by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureNumberFound(Event):
    """A number in the signature of a contact's email, offered on the card ("from
    signature") so a later call from it is recognised; staff did not type it."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"number"})

    contact_id: str
    number: str = ""  # E.164; "" once the contact was erased
    label: str = "landline"  # landline or fax
    source: str = "signature"
    email_stream: str = ""  # the email whose signature carried it

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureNumberRemoved(Event):
    """Staff removed a number that was offered from a signature; it is not offered again."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"number"})

    contact_id: str
    number: str = ""
    by: str | None = None

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


# Ways to reach a person, and what they said about each (GDPR Art. 6/7, § 7 UWG).
CONSENT_CHANNELS = ("email", "phone", "fax", "letter")
CONSENT_STATES = ("unknown", "allowed", "blocked")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecorded(Event):
    """What a contact said about being contacted on one channel: allowed, blocked (they
    asked not to be), or unknown again. `source` says where it was said ("Anruf 07.12.",
    "Brief vom 3.11."); it may name people, so it is sealed with the contact's key."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"source"})

    contact_id: str
    channel: str  # CONSENT_CHANNELS
    state: str  # CONSENT_STATES
    source: str = ""
    given_on: str = ""  # ISO date the person said it (empty: the day it was recorded)
    by: str | None = None

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


EVENTS: dict[str, type[Event]] = {
    "ContactCreated": ContactCreated,
    "ContactChanged": ContactChanged,
    "ContactsMerged": ContactsMerged,
    "SignatureNumberFound": SignatureNumberFound,
    "SignatureNumberRemoved": SignatureNumberRemoved,
    "ConsentRecorded": ConsentRecorded,
}
