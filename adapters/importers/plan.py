"""Deciding what each imported row does: create, merge into a duplicate, or report it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from adapters.importers import remarks
from adapters.importers.cards import RowError, build_card
from adapters.importers.remarks import Remark
from adapters.importers.tabular import Record
from hub.contacts import decisions
from hub.contacts.model import Contact, evolve
from hub.events import Event
from hub.events.contacts import ContactChanged

SIMILAR_NAME = 0.88  # SequenceMatcher ratio above which two names at one firm are one person
_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_LEGAL = re.compile(r"\b(gmbh|ag|kg|ohg|gbr|ug|mbh|co|ek|ev|inh|haftungsbeschraenkt)\b")


@dataclass(slots=True)
class Outcome:
    """What happens to one row: create, merge, unchanged, duplicate (reported) or error."""

    line: int
    action: str
    name: str = ""
    contact_id: str | None = None
    reason: Remark | None = None
    warnings: list[Remark] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Write:
    """One row's event, on its contact's stream at the version it was decided on."""

    line: int
    contact_id: str
    expected_version: int
    event: Event
    key: str


@dataclass(slots=True)
class Plan:
    """Every row's outcome, and the events that carry them out (ordered by line)."""

    outcomes: list[Outcome]
    writes: list[Write]

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


def import_id(file_hash: str, line: int) -> str:
    """The id a row's new contact gets: the same on every run, so a rerun resumes."""
    return hashlib.sha256(f"{file_hash}:{line}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A contact a row duplicates, and by what: the same email or phone, a similar name."""

    contact: Contact
    by: str  # email, phone, name
    values: dict[str, str]

    def remark(self, nothing_new: bool = False) -> Remark:
        """Why the row is this contact's duplicate ("... as Anna Schulz", "...: nothing new")."""
        found_as, same = _WHY[self.by]
        if nothing_new:
            return Remark(same, self.values)
        return Remark(found_as, {**self.values, "name": self.contact.display_name})


_WHY = {
    "email": (remarks.SAME_EMAIL, remarks.SAME_EMAIL_NOTHING_NEW),
    "phone": (remarks.SAME_PHONE, remarks.SAME_PHONE_NOTHING_NEW),
    "name": (remarks.SIMILAR_NAME, remarks.SIMILAR_NAME_NOTHING_NEW),
}


class Directory:
    """The contacts known so far (existing plus planned), indexed for duplicate search."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.cards: dict[str, Contact] = {}
        self.by_email: dict[str, str] = {}
        self.by_number: dict[str, str] = {}
        self.by_company: dict[str, list[str]] = {}
        for contact in contacts:
            self.put(contact)

    def put(self, contact: Contact) -> None:
        self.cards[contact.contact_id] = contact
        for email in contact.emails:
            self.by_email.setdefault(email.lower(), contact.contact_id)
        for phone in contact.phones:
            if phone.label != "switchboard":  # a firm's main line is shared by everyone
                self.by_number.setdefault(phone.number, contact.contact_id)
        if (company := company_key(contact.company)) and contact.kind == "person":
            ids = self.by_company.setdefault(company, [])
            if contact.contact_id not in ids:
                ids.append(contact.contact_id)

    def duplicate_of(self, card: Contact) -> Duplicate | None:
        """The contact this card duplicates, and why; None when it is new."""
        for email in card.emails:
            if (hit := self._card(self.by_email.get(email))) and same_person(card, hit):
                return Duplicate(hit, "email", {"email": email})
        for phone in card.phones:
            if phone.label == "switchboard":
                continue
            hit = self._card(self.by_number.get(phone.number))
            if hit and same_person(card, hit):
                return Duplicate(hit, "phone", {"number": phone.number})
        if card.kind == "person" and (company := company_key(card.company)):
            for other in self.by_company.get(company, []):
                hit = self._card(other)
                if hit and similar_names(card, hit):
                    return Duplicate(hit, "name", {"company": card.company})
        return None

    def _card(self, contact_id: str | None) -> Contact | None:
        while contact_id is not None:
            card = self.cards.get(contact_id)
            if card is None or not card.merged_into:
                return card
            contact_id = card.merged_into
        return None


def company_key(company: str) -> str:
    """A firm's name without legal form and punctuation ("Müller GmbH" -> "mueller")."""
    text = re.sub(r"[^a-z0-9 ]", " ", _ascii(company))
    return " ".join(_LEGAL.sub(" ", text).split())


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().translate(_SPELLING)


def person_key(card: Contact) -> str:
    return " ".join(
        re.sub(r"[^a-z ]", " ", _ascii(f"{card.given_name} {card.family_name}")).split()
    )


def same_person(card: Contact, other: Contact) -> bool:
    """Whether a shared address or number is one person's (not a shared office line)."""
    if card.kind == "company" or other.kind == "company":
        return card.kind == other.kind or not (other.given_name or other.family_name)
    if not (card.family_name and other.family_name):
        return True
    return similar_names(card, other)


def similar_names(card: Contact, other: Contact) -> bool:
    a, b = person_key(card), person_key(other)
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= SIMILAR_NAME


def plan_import(
    records: Iterable[Record],
    directory: Directory,
    file_hash: str,
    *,
    on_duplicate: str = "merge",
    region: str = "DE",
    own_area_code: str | None = None,
) -> Plan:
    """Each record's outcome against the directory (which it updates as it goes)."""
    outcomes: list[Outcome] = []
    created: dict[str, tuple[int, Contact]] = {}  # new contacts, by id: (line, card)
    changes: list[Write] = []
    for record in records:
        outcome = Outcome(record.line, "error", reason=record.error)
        outcomes.append(outcome)
        if record.draft is None:
            continue
        try:
            fields, outcome.warnings = build_card(record.draft, region, own_area_code)
        except RowError as err:
            outcome.reason = err.remark
            continue
        contact_id = import_id(file_hash, record.line)
        card = evolve(Contact(contact_id=contact_id), decisions.create(contact_id, fields))
        outcome.name = card.display_name
        if contact_id in directory.cards and contact_id not in created:
            outcome.action, outcome.contact_id = "unchanged", contact_id
            outcome.reason = Remark.of(remarks.IMPORTED_BEFORE)
            continue
        found = directory.duplicate_of(card)
        if found is None:
            outcome.action, outcome.contact_id = "create", contact_id
            created[contact_id] = (record.line, card)
            directory.put(card)
            continue
        target = found.contact
        outcome.contact_id = target.contact_id
        taken = decisions.absorb(target, fields)
        if on_duplicate != "merge":
            outcome.action, outcome.reason = "duplicate", found.remark()
            continue
        change = decisions.change(target, taken) if taken else None
        if change is None:
            outcome.action, outcome.reason = "unchanged", found.remark(nothing_new=True)
            continue
        outcome.action, outcome.reason = "merge", found.remark()
        updated = _apply(target, change)
        directory.put(updated)
        if target.contact_id in created:
            created[target.contact_id] = (created[target.contact_id][0], updated)
        else:
            key = f"import:{file_hash}:{record.line}"
            changes.append(Write(record.line, target.contact_id, target.version, change, key))
    return Plan(outcomes, _creates(created, file_hash) + changes)


def _apply(contact: Contact, change: ContactChanged) -> Contact:
    return evolve(contact, change)


def _creates(created: dict[str, tuple[int, Contact]], file_hash: str) -> list[Write]:
    writes = []
    for contact_id, (line, card) in created.items():
        event = decisions.create(contact_id, card.card())
        writes.append(Write(line, contact_id, 0, event, f"import:{file_hash}:{line}"))
    return writes
