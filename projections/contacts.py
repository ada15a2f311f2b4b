"""The contact directory: one row per contact; a merged contact points at its survivor."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contacts.model import CARD_EVENT_TYPES, Consent, Contact, evolve
from hub.events import Recorded
from hub.events.contacts import Address, ContactsMerged, Phone
from hub.sql import upsert
from projections import search

_PHONES = TypeAdapter(tuple[Phone, ...])
_ADDRESS = TypeAdapter(Address | None)
_CONSENT = TypeAdapter(tuple[Consent, ...])


class ContactDirectory:
    """Read model of every contact's card, with full-text search (projection "contacts")."""

    name = "contacts"
    # 3: umlauts also in their plain spelling ("muller" finds "Müller"); 4: consent
    version = 4
    event_types: Collection[str] | None = CARD_EVENT_TYPES
    tables = sa.MetaData()
    contacts = sa.Table(
        "contacts",
        tables,
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False, index=True),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("company", sa.Text, nullable=False),
        sa.Column("emails", sa.Text, nullable=False),  # JSON lists/objects, read whole
        sa.Column("phones", sa.Text, nullable=False),
        sa.Column("signature_phones", sa.Text, nullable=False, server_default="[]"),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("customer_number", sa.Text, index=True),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("company_id", sa.Text, index=True),
        sa.Column("merged_into", sa.Text, index=True),
        # JSON list of {channel, state, source, given_on, by}; source is the person's words
        # (sealed in the event): the row goes when the contact is erased.
        sa.Column("consent", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    search_rows = search.search_table(tables)

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        ids = {r.stream.removeprefix("contact-") for r in batch}
        cards = await self._load(conn, ids)
        created: dict[str, Any] = {}
        merges: list[ContactsMerged] = []
        touched: dict[str, Any] = {}
        for r in batch:
            contact_id = r.stream.removeprefix("contact-")
            current = cards.get(contact_id) or Contact(contact_id=contact_id)
            cards[contact_id] = evolve(current, r.event, r.version)
            created.setdefault(contact_id, r.recorded_at)
            touched[contact_id] = r.recorded_at
            if isinstance(r.event, ContactsMerged):
                merges.append(r.event)
        erased = [i for i in touched if cards[i].erased]  # an erased card keeps no row
        if erased:
            table = self.search_rows
            await conn.execute(sa.delete(table).where(table.c.contact_id.in_(erased)))
            await conn.execute(
                sa.delete(self.contacts).where(self.contacts.c.contact_id.in_(erased))
            )
        kept = [i for i in touched if not cards[i].erased]
        rows = [_row(cards[i], created[i], touched[i]) for i in kept]
        if rows:
            columns = [c for c in rows[0] if c not in ("contact_id", "created_at")]
            await conn.execute(upsert(conn, self.contacts, ["contact_id"], columns), rows)
        await self._index(conn, [cards[i] for i in kept])
        for merge in merges:
            await conn.execute(
                sa.update(self.contacts)
                .where(self.contacts.c.merged_into == merge.merged_id)
                .values(merged_into=merge.survivor_id)
            )

    async def get(self, conn: AsyncConnection, contact_id: str) -> Contact | None:
        """A contact's card (also of a merged one: see `merged_into`)."""
        return (await self._load(conn, {contact_id})).get(contact_id)

    async def resolve(self, conn: AsyncConnection, contact_id: str) -> Contact | None:
        """The live card for an id, following merges to the survivor."""
        card = await self.get(conn, contact_id)
        if card is not None and card.merged_into:
            return await self.get(conn, card.merged_into)
        return card

    async def search(self, conn: AsyncConnection, text: str, limit: int = 20) -> list[Contact]:
        """Live contacts whose name, company, email, phone digits, city or notes contain
        every fragment of `text`, best first."""
        ids = await search.find(conn, self.search_rows, text, limit)
        cards = await self._load(conn, set(ids))
        return [cards[i] for i in ids if i in cards]

    async def all(self, conn: AsyncConnection) -> list[Contact]:
        """Every contact, merged ones included (for duplicate search in imports)."""
        rows = await conn.execute(sa.select(self.contacts))
        return [_contact(row) for row in rows]

    async def count(self, conn: AsyncConnection) -> int:
        query = sa.select(sa.func.count()).where(self.contacts.c.merged_into.is_(None))
        return int((await conn.execute(query)).scalar_one())

    async def _load(self, conn: AsyncConnection, ids: set[str]) -> dict[str, Contact]:
        if not ids:
            return {}
        rows = await conn.execute(
            sa.select(self.contacts).where(self.contacts.c.contact_id.in_(list(ids)))
        )
        return {row.contact_id: _contact(row) for row in rows}

    async def _index(self, conn: AsyncConnection, cards: list[Contact]) -> None:
        live = [c for c in cards if not c.merged_into]
        gone = [c.contact_id for c in cards if c.merged_into]
        if gone:
            await conn.execute(
                sa.delete(self.search_rows).where(self.search_rows.c.contact_id.in_(gone))
            )
        if live:
            await conn.execute(
                upsert(conn, self.search_rows, ["contact_id"], ["body"]),
                [{"contact_id": c.contact_id, "body": _document(c)} for c in live],
            )


def _document(c: Contact) -> str:
    phones = []
    for p in (*c.phones, *c.signature_phones):
        digits = p.number.lstrip("+")
        phones += [digits, "0" + digits[2:] if digits.startswith("49") else ""]
    a = c.address or Address()
    return search.document(
        [
            c.display_name,
            c.company,
            *c.emails,
            *phones,
            a.street,
            a.postcode,
            a.city,
            c.customer_number,
            *c.tags,
            c.notes,
        ]
    )


def _row(c: Contact, created_at: Any, updated_at: Any) -> dict[str, Any]:
    return {
        "contact_id": c.contact_id,
        "version": c.version,
        "kind": c.kind,
        "display_name": c.display_name,
        "given_name": c.given_name,
        "family_name": c.family_name,
        "company": c.company,
        "emails": orjson.dumps(c.emails).decode(),
        "phones": _PHONES.dump_json(c.phones).decode(),
        "signature_phones": _PHONES.dump_json(c.signature_phones).decode(),
        "address": _ADDRESS.dump_json(c.address).decode(),
        "city": c.address.city if c.address else "",
        "notes": c.notes,
        "customer_number": c.customer_number,
        "tags": orjson.dumps(c.tags).decode(),
        "owner": c.owner,
        "language": c.language,
        "company_id": c.company_id,
        "merged_into": c.merged_into,
        "consent": _CONSENT.dump_json(c.consent).decode(),
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _contact(row: Any) -> Contact:
    return Contact(
        contact_id=row.contact_id,
        version=row.version,
        kind=row.kind,
        given_name=row.given_name,
        family_name=row.family_name,
        company=row.company,
        emails=tuple(orjson.loads(row.emails)),
        phones=_PHONES.validate_json(row.phones),
        signature_phones=_PHONES.validate_json(row.signature_phones),
        address=_ADDRESS.validate_json(row.address),
        notes=row.notes,
        customer_number=row.customer_number,
        tags=tuple(orjson.loads(row.tags)),
        owner=row.owner,
        language=row.language,
        company_id=row.company_id,
        merged_into=row.merged_into,
        consent=_CONSENT.validate_json(row.consent),
    )
