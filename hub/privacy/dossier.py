"""What Kartei holds about one contact: their subjects, events and documents.

Found from the log itself (not from read models), so it is complete whatever state the
read models are in: the contact's stream folded, the duplicates merged into it, the keys
of their addresses and numbers, and every event sealed with one of those keys.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa

from hub.contacts.keys import normalize_email
from hub.contacts.model import CARD_EVENT_TYPES, Contact, evolve
from hub.events import Event, Recorded
from hub.events.contacts import ContactsMerged
from hub.events.fax import FaxReceived
from hub.events.mail import CaptureFailed, EmailReceived, EmailSent
from hub.store import EventStore
from hub.store.crypto import SEALED
from hub.store.schema import events, subject_keys

DOCUMENT_TYPES = ("EmailReceived", "EmailSent", "FaxReceived", "CaptureFailed")


# Why an erasure or export cannot be done, as catalogue keys (hub/web/i18n.py): the command
# line and the web say them in the reader's language; str() of the error is the English.
NO_CONTACT = "no contact '{contact}'"
MERGED = "contact {contact} was merged into {into}; use that"
ERASED_ALREADY = "contact {contact} is erased already"
HELD = "retention holds keep documents of this contact ({holds})"
KEYS = (NO_CONTACT, MERGED, ERASED_ALREADY, HELD)


class PrivacyError(Exception):
    """An erasure or export cannot be done as asked: `key` (a catalogue key) and `values`
    (its placeholders) say why; str() says it in English."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(key.format(**values))


@dataclass
class Dossier:
    """One contact and everything sealed with their keys."""

    contact: Contact
    contact_ids: tuple[str, ...]  # the contact and the duplicates merged into it
    subjects: tuple[str, ...]  # keys to destroy
    shared: tuple[str, ...]  # their addresses/numbers another living contact also has
    emails: tuple[str, ...]
    numbers: tuple[str, ...]
    records: list[Recorded] = field(default_factory=list)  # sealed with their keys
    mentions: list[Recorded] = field(default_factory=list)  # naming the contact id
    documents: dict[str, str] = field(default_factory=dict)  # ref -> what it is
    shared_documents: set[str] = field(default_factory=set)  # also used by others

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.stream for r in self.records))

    @property
    def own_documents(self) -> list[str]:
        return [ref for ref in self.documents if ref not in self.shared_documents]


def documents_of(event: Event) -> Iterator[tuple[str, str]]:
    """(archive reference, what it is) of the documents an event names."""
    if isinstance(event, EmailReceived | EmailSent):
        yield event.raw_ref, "email.eml"
        if event.html_ref:
            yield event.html_ref, "email.html"
        for a in event.attachments:
            yield a.ref, a.name or "attachment"
    elif isinstance(event, FaxReceived):
        yield event.raw_ref, "fax.eml"
        yield event.document_ref, event.document_name or "fax"
        if event.preview_ref:
            yield event.preview_ref, "fax-preview.png"
    elif isinstance(event, CaptureFailed):
        yield event.raw_ref, "unreadable.eml"


async def all_contacts(store: EventStore) -> dict[str, Contact]:
    """Every contact folded from the log (erased and merged ones included)."""
    cards: dict[str, Contact] = {}
    async for batch in store.iter_all(types=CARD_EVENT_TYPES, stream_prefix="contact-"):
        for r in batch:
            cid = r.stream.removeprefix("contact-")
            cards[cid] = evolve(cards.get(cid) or Contact(contact_id=cid), r.event, r.version)
            if isinstance(r.event, ContactsMerged) and r.event.merged_id != cid:
                merged = cards.get(r.event.merged_id) or Contact(contact_id=r.event.merged_id)
                cards[r.event.merged_id] = evolve(merged, r.event)
    return cards


def _subjects_of(card: Contact) -> tuple[set[str], set[str]]:
    emails = {e for a in card.emails if (e := normalize_email(a))}
    numbers = {p.number for p in (*card.phones, *card.signature_phones) if p.number}
    return emails, numbers


async def dossier(store: EventStore, contact_id: str) -> Dossier:
    """Everything Kartei holds about a contact (raises PrivacyError when there is none)."""
    cards = await all_contacts(store)
    card = cards.get(contact_id)
    if card is None or not card.exists:
        raise PrivacyError(NO_CONTACT, contact=contact_id)
    if card.merged_into:
        raise PrivacyError(MERGED, contact=contact_id, into=card.merged_into)
    ids = {contact_id} | {c.contact_id for c in cards.values() if c.merged_into == contact_id}
    emails: set[str] = set()
    numbers: set[str] = set()
    for cid in ids:
        found = _subjects_of(cards[cid])
        emails |= found[0]
        numbers |= found[1]
    others_emails: set[str] = set()
    others_numbers: set[str] = set()
    for other in cards.values():
        if other.contact_id not in ids and not other.merged_into and not other.erased:
            found = _subjects_of(other)
            others_emails |= found[0]
            others_numbers |= found[1]
    wanted = [f"email:{e}" for e in sorted(emails)] + [f"phone:{n}" for n in sorted(numbers)]
    shared = [s for s in wanted if s.split(":", 1)[1] in others_emails | others_numbers]
    subjects = [f"contact:{i}" for i in sorted(ids)] + [s for s in wanted if s not in shared]
    found_dossier = Dossier(
        card, tuple(sorted(ids)), tuple(subjects), tuple(shared), tuple(sorted(emails)),
        tuple(sorted(numbers)),
    )  # fmt: skip
    positions = await sealed_positions(store, subjects)
    found_dossier.records = await store.read_positions(positions)
    mentioned = await _mentions(store, ids) - set(positions)
    found_dossier.mentions = await store.read_positions(mentioned)
    for r in found_dossier.records:
        for ref, what in documents_of(r.event):
            if ref:
                found_dossier.documents.setdefault(ref, what)
    found_dossier.shared_documents = await _used_elsewhere(
        store, set(found_dossier.documents), set(positions)
    )
    return found_dossier


async def sealed_positions(store: EventStore, subjects: Collection[str]) -> list[int]:
    """Positions of the events sealed with these subjects' keys (by key id, and by name
    for events from before key ids)."""
    if not subjects:
        return []
    async with store.db.read() as conn:
        rows = await conn.execute(
            sa.select(subject_keys.c.key_id).where(subject_keys.c.subject.in_(list(subjects)))
        )
        ids = [kid for (kid,) in rows if kid]
        patterns = [f'%"{SEALED}":{{"k":"{kid}"%' for kid in ids]
        patterns += [f'%"{SEALED}":{{"s":{_json(s)}%' for s in subjects]
        found: list[int] = []
        for start in range(0, len(patterns), 50):
            likes = [events.c.data.like(p, escape="\\") for p in patterns[start : start + 50]]
            query = sa.select(events.c.position).where(sa.or_(*likes))
            found += [int(p) for (p,) in await conn.execute(query)]
    return sorted(set(found))


def _json(value: str) -> str:
    """A string as orjson writes it, escaped for LIKE."""
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _mentions(store: EventStore, ids: Collection[str]) -> set[int]:
    """Events that name one of the contact ids in their open fields (tasks, labels, risk)."""
    likes = [events.c.data.like(f'%"contact_id":"{i}"%') for i in ids]
    async with store.db.read() as conn:
        rows = await conn.execute(sa.select(events.c.position).where(sa.or_(*likes)))
        return {int(p) for (p,) in rows}


async def _used_elsewhere(store: EventStore, refs: set[str], own: set[int]) -> set[str]:
    """Those of `refs` that an event of somebody else still names (identical attachments
    are stored once: a shared logo must outlive one person's erasure)."""
    used: set[str] = set()
    if not refs:
        return used
    async for batch in store.iter_all(types=DOCUMENT_TYPES):
        for r in batch:
            if r.position not in own and not r.erased:
                used |= {ref for ref, _ in documents_of(r.event) if ref in refs}
    return used
