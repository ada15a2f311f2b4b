"""Commands on contacts: load a contact from its stream, decide, append with its version."""

from __future__ import annotations

from datetime import date

from hub.contacts import decisions
from hub.contacts.model import Contact, evolve, new_contact_id, stream_of
from hub.events import Metadata, NewEvent
from hub.store import NO_STREAM, EventStore


class ContactService:
    """Creates, changes and merges contacts; optimistic concurrency on each stream."""

    def __init__(self, store: EventStore, source: str = "contacts") -> None:
        self.store = store
        self.source = source

    async def load(self, contact_id: str) -> Contact:
        """The contact as its stream says now (version 0: no such contact)."""
        contact = Contact(contact_id=contact_id)
        for r in await self.store.read_stream(stream_of(contact_id)):
            contact = evolve(contact, r.event, r.version)
        return contact

    async def create(
        self,
        card: dict[str, object],
        *,
        contact_id: str | None = None,
        key: str | None = None,
        actor: str | None = None,
    ) -> str:
        """Adds a contact; with a key, a repeat adds nothing. Returns its id."""
        contact_id = contact_id or new_contact_id()
        event = decisions.create(contact_id, card)
        await self.store.append(
            stream_of(contact_id), NO_STREAM, [NewEvent(event, key, self._meta(actor))]
        )
        return contact_id

    async def change(
        self,
        contact_id: str,
        changes: dict[str, object],
        *,
        expected_version: int | None = None,
        key: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Changes fields; raises ConcurrencyError if the contact moved past
        `expected_version`. Returns the contact's new version."""
        contact = await self.load(contact_id)
        if expected_version is None:
            expected_version = contact.version
        event = decisions.change(contact, changes)
        if event is None:
            return contact.version
        result = await self.store.append(
            stream_of(contact_id), expected_version, [NewEvent(event, key, self._meta(actor))]
        )
        return result.version

    async def merge(
        self,
        survivor_id: str,
        merged_id: str,
        *,
        actor: str | None = None,
        key: str | None = None,
    ) -> Contact:
        """Merges a duplicate into the survivor in one commit; returns the survivor."""
        survivor = await self.load(survivor_id)
        merged = await self.load(merged_id)
        changed, merge_event = decisions.merge(survivor, merged, by=actor)
        meta = self._meta(actor)
        async with self.store.transaction() as tx:
            if changed is not None:
                await tx.append(
                    stream_of(survivor_id),
                    survivor.version,
                    [NewEvent(changed, f"{key}:survivor" if key else None, meta)],
                )
                survivor = evolve(survivor, changed)
            await tx.append(
                stream_of(merged_id), merged.version, [NewEvent(merge_event, key, meta)]
            )
            # What the duplicate said about being contacted goes with it; a block wins.
            taken = decisions.consent_taken_over(survivor, merged, by=actor)
            if taken:
                await tx.append(
                    stream_of(survivor_id),
                    survivor.version,
                    [
                        NewEvent(e, f"{key}:consent:{e.channel}" if key else None, meta)
                        for e in taken
                    ],
                )
                for e in taken:
                    survivor = evolve(survivor, e)
        return survivor

    async def remove_signature_number(
        self, contact_id: str, number: str, *, actor: str | None = None
    ) -> int:
        """Removes a number offered from an email signature; returns the new version."""
        contact = await self.load(contact_id)
        event = decisions.remove_signature_number(contact, number, by=actor)
        result = await self.store.append(
            stream_of(contact_id), contact.version, [NewEvent(event, None, self._meta(actor))]
        )
        return result.version

    async def record_consent(
        self,
        contact_id: str,
        channel: str,
        state: str,
        *,
        source: str = "",
        given_on: date | None = None,
        actor: str | None = None,
    ) -> Contact:
        """Records what the contact said about one channel; returns the card after it."""
        contact = await self.load(contact_id)
        event = decisions.record_consent(
            contact, channel, state, source=source, given_on=given_on, by=actor
        )
        if event is None:
            return contact
        result = await self.store.append(
            stream_of(contact_id), contact.version, [NewEvent(event, None, self._meta(actor))]
        )
        return evolve(contact, event, result.version)

    def _meta(self, actor: str | None) -> Metadata:
        return Metadata(source=self.source, actor=actor)
