"""Numbers in a known contact's email signature are offered on the contact, once.

An email from a contact whose signature carries a phone or fax number the contact does
not have yet appends SignatureNumberFound to the contact's stream ("from signature"), so
the identity index recognises a later call from that number. The idempotency key is the
contact and the number: the next email with the same signature appends nothing, and a
number staff removed is not offered again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contacts.model import Contact, evolve, stream_of
from hub.events import Metadata, NewEvent, Recorded
from hub.events.contacts import SignatureNumberFound
from hub.events.mail import EmailReceived
from hub.policy import Reaction
from hub.store import EventStore

MAX_PER_EMAIL = 5  # a "signature" with more numbers than this is a price list, not a person
LABELS = {"phone": "landline", "fax": "fax"}


class EmailIndex(Protocol):
    async def lookup_email(self, conn: AsyncConnection, address: str) -> Any: ...


def offer_key(contact_id: str, number: str) -> str:
    """The idempotency key of one number offered on one contact."""
    return f"signature-number:{contact_id}:{number}"


def numbers_in(event: EmailReceived) -> list[tuple[str, str]]:
    """(E.164 number, label) from an email's signature, in the order written."""
    found = []
    for item in event.signature_phones[:MAX_PER_EMAIL]:
        kind, _, number = item.partition(":")
        if number.startswith("+") and kind in LABELS:
            found.append((number, LABELS[kind]))
    return found


class SignatureNumbersPolicy:
    """EmailReceived from a known contact with new signature numbers -> SignatureNumberFound."""

    name = "signature-numbers"
    version = 1
    event_types: Collection[str] | None = ("EmailReceived",)

    def __init__(self, store: EventStore, index: EmailIndex) -> None:
        self.store = store
        self.index = index

    async def react(self, batch: Sequence[Recorded]) -> Sequence[Reaction]:
        reactions: list[Reaction] = []
        offered: set[str] = set()  # keys offered in this batch (not appended yet)
        for r in batch:
            if not isinstance(r.event, EmailReceived):
                continue
            numbers = numbers_in(r.event)
            contact = await self._sender(r.event) if numbers else None
            if contact is not None:
                reactions += self._offers(r, contact, numbers, offered)
        return reactions

    async def _sender(self, event: EmailReceived) -> Contact | None:
        """The known contact who sent the email, as its stream says now."""
        async with self.store.db.read() as conn:
            match = await self.index.lookup_email(conn, event.sender) if event.sender else None
        return None if match is None else await self._contact(match.contact_id)

    def _offers(
        self, r: Recorded, contact: Contact, numbers: list[tuple[str, str]], offered: set[str]
    ) -> list[Reaction]:
        """SignatureNumberFound for each number the contact neither has nor was offered."""
        known = {p.number for p in (*contact.phones, *contact.signature_phones)}
        meta = Metadata(source=f"policy:{self.name}", causation_id=str(r.position))
        reactions = []
        for number, label in numbers:
            key = offer_key(contact.contact_id, number)
            if number in known or key in offered:
                continue
            offered.add(key)
            found = SignatureNumberFound(
                contact_id=contact.contact_id, number=number, label=label, email_stream=r.stream
            )
            reactions.append(Reaction(stream_of(contact.contact_id), NewEvent(found, key, meta)))
        return reactions

    async def _contact(self, contact_id: str) -> Contact:
        """The contact as its stream says now (the read models may run behind)."""
        contact = Contact(contact_id=contact_id)
        for r in await self.store.read_stream(stream_of(contact_id)):
            contact = evolve(contact, r.event, r.version)
        return contact
