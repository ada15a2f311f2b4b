"""The identity index: which contact an email address or a phone number belongs to.

Every capture adapter asks it; the screen pop asks it while the phone rings, so a number
lookup is one indexed query (exact number, or the longest switchboard prefix).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from hub.contacts.keys import MIN_PREFIX_LENGTH, normalize_email, switchboard_prefixes
from hub.contacts.model import Contact, evolve
from hub.events import Recorded
from hub.events.contacts import ContactsMerged, Phone
from hub.phone import readings, split_extension
from hub.sql import upsert
from projections.identity_queries import (
    MAX_EXTENSION_DIGITS,
    RANKS,
    email_query,
    emails_query,
    first_row,
    number_query,
)


@dataclass(frozen=True, slots=True)
class ContactMatch:
    """Who a number or address belongs to, and how it was matched."""

    contact_id: str
    display_name: str
    company: str | None
    customer_number: str | None
    how: str  # exact, signature, switchboard, email
    kind: str = "person"
    number: str | None = None  # the E.164 number the lookup resolved to


class IdentityIndex:
    """Email address and phone number -> contact (projection "identity")."""

    name = "identity"
    version = 2
    event_types: Collection[str] | None = (
        "ContactCreated",
        "ContactChanged",
        "ContactsMerged",
        "SignatureNumberFound",
        "SignatureNumberRemoved",
        "ContactErased",
    )
    tables = sa.MetaData()
    cards = sa.Table(
        "identity_cards",
        tables,
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("company", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("customer_number", sa.Text),
        sa.Column("merged_into", sa.Text, index=True),
    )
    numbers = sa.Table(
        "identity_numbers",
        tables,
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("contact_id", sa.Text, primary_key=True, index=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    # Numbers offered from email signatures: they resolve only where no staff-entered
    # number does, and only when a single (live) contact's signatures carry them.
    signature_numbers = sa.Table(
        "identity_signature_numbers",
        tables,
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("contact_id", sa.Text, primary_key=True, index=True),
    )
    switchboards = sa.Table(
        "identity_switchboards",
        tables,
        sa.Column("prefix", sa.Text, primary_key=True),
        sa.Column("contact_id", sa.Text, primary_key=True, index=True),
    )
    emails = sa.Table(
        "identity_emails",
        tables,
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("contact_id", sa.Text, primary_key=True, index=True),
    )

    def __init__(self, region: str = "DE", own_area_code: str | None = None) -> None:
        self.region = region
        self.own_area_code = own_area_code or None
        self._by_number = number_query(
            self.numbers, self.signature_numbers, self.switchboards, self.cards
        )
        self._by_email = email_query(self.emails, self.cards)
        self._by_emails = emails_query(self.emails, self.cards)
        self._compiled: dict[int, SQLCompiler] = {}

    # -- lookups (the hot path) ---------------------------------------------------

    async def lookup_number(self, conn: AsyncConnection, raw: str) -> ContactMatch | None:
        """The contact a caller number belongs to: exact first, then a company switchboard.

        Digits sent without a prefix can be read two ways ("491518275367": +49 151...,
        or 0491 518...); the second reading is asked only when the first matches nobody.
        """
        for number in self.readings(raw):
            match = await self._lookup_e164(conn, number)
            if match is not None:
                return match
        return None

    async def _lookup_e164(self, conn: AsyncConnection, number: str) -> ContactMatch | None:
        params: dict[str, Any] = {"number": number}
        for k in range(1, MAX_EXTENSION_DIGITS + 1):
            prefix = number[:-k]
            params[f"p{k}"] = prefix if len(prefix) >= MIN_PREFIX_LENGTH else ""
        row = await first_row(conn, self._by_number, params, self._compiled)
        if row is None:
            return None
        how = RANKS.get(row.rank, "switchboard")
        return ContactMatch(
            row.contact_id,
            row.display_name,
            row.company or None,
            row.customer_number,
            how,
            row.kind,
            number,
        )

    async def lookup_email(self, conn: AsyncConnection, address: str) -> ContactMatch | None:
        """The contact an email address belongs to (case-insensitive)."""
        normalized = normalize_email(address)
        if normalized is None:
            return None
        row = await first_row(conn, self._by_email, {"address": normalized}, self._compiled)
        if row is None:
            return None
        return ContactMatch(
            row.contact_id,
            row.display_name,
            row.company or None,
            row.customer_number,
            "email",
            row.kind,
        )

    async def contacts_by_email(
        self, conn: AsyncConnection, addresses: Collection[str]
    ) -> dict[str, str]:
        """Contact id per (normalized) address, for many addresses in one query; addresses
        nobody has are left out."""
        normalized = sorted({a for a in map(normalize_email, addresses) if a is not None})
        found: dict[str, str] = {}
        for start in range(0, len(normalized), 500):
            params = {"addresses": normalized[start : start + 500]}
            for row in await conn.execute(self._by_emails, params):
                found.setdefault(row.address, str(row.contact_id))
        return found

    def normalize(self, raw: str) -> str | None:
        """E.164 for what a phone system sends, with a written extension dropped."""
        found = self.readings(raw)
        return found[0] if found else None

    def readings(self, raw: str) -> tuple[str, ...]:
        """What a phone system sends as E.164, the likeliest reading first (hub.phone)."""
        base, _ = split_extension(raw or "")
        return readings(base, self.region, self.own_area_code)

    # -- projection -----------------------------------------------------------------

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        cards = await self._load(conn, {r.stream.removeprefix("contact-") for r in batch})
        numbers_changed: set[str] = set()
        emails_changed: set[str] = set()
        offered_changed: set[str] = set()
        for r in batch:
            contact_id = r.stream.removeprefix("contact-")
            before = cards.get(contact_id) or Contact(contact_id=contact_id)
            after = evolve(before, r.event, r.version)
            cards[contact_id] = after
            if isinstance(r.event, ContactsMerged):
                await self._merge(conn, r.event)
                cards = _redirect(cards, r.event)
            if after.phones != before.phones or after.kind != before.kind:
                numbers_changed.add(contact_id)
            if after.emails != before.emails:
                emails_changed.add(contact_id)
            if after.signature_phones != before.signature_phones:
                offered_changed.add(contact_id)
        await self._put_numbers(conn, [cards[i] for i in numbers_changed])
        await self._put_signature_numbers(conn, [cards[i] for i in offered_changed])
        await self._put_emails(conn, [cards[i] for i in emails_changed])
        rows = [_card_row(c) for c in cards.values() if c.version]
        if rows:
            columns = [c for c in rows[0] if c != "contact_id"]
            await conn.execute(upsert(conn, self.cards, ["contact_id"], columns), rows)

    async def _load(self, conn: AsyncConnection, ids: set[str]) -> dict[str, Contact]:
        c = self.cards.c
        rows = await conn.execute(sa.select(self.cards).where(c.contact_id.in_(list(ids))))
        cards = {row.contact_id: _card(row) for row in rows}
        numbers = await conn.execute(
            sa.select(self.numbers).where(self.numbers.c.contact_id.in_(list(cards)))
        )
        phones: dict[str, list[Phone]] = {}
        for n in numbers:
            phones.setdefault(n.contact_id, []).append(
                Phone(number=n.number, label=n.label, raw=n.raw)
            )
        emails = await conn.execute(
            sa.select(self.emails).where(self.emails.c.contact_id.in_(list(cards)))
        )
        addresses: dict[str, list[str]] = {}
        for e in emails:
            addresses.setdefault(e.contact_id, []).append(e.address)
        offered = await conn.execute(
            sa.select(self.signature_numbers).where(
                self.signature_numbers.c.contact_id.in_(list(cards))
            )
        )
        signature: dict[str, list[Phone]] = {}
        for o in offered:
            signature.setdefault(o.contact_id, []).append(Phone(number=o.number))
        return {
            i: replace(
                card,
                phones=tuple(phones.get(i, ())),
                emails=tuple(addresses.get(i, ())),
                signature_phones=tuple(signature.get(i, ())),
            )
            for i, card in cards.items()
        }

    async def _merge(self, conn: AsyncConnection, event: ContactsMerged) -> None:
        c = self.cards.c
        await conn.execute(
            sa.update(self.cards)
            .where(sa.or_(c.contact_id == event.merged_id, c.merged_into == event.merged_id))
            .values(merged_into=event.survivor_id)
        )

    async def _put_numbers(self, conn: AsyncConnection, contacts: list[Contact]) -> None:
        """Replaces the numbers and switchboard prefixes of these contacts."""
        if not contacts:
            return
        ids = [c.contact_id for c in contacts]
        await conn.execute(sa.delete(self.numbers).where(self.numbers.c.contact_id.in_(ids)))
        await conn.execute(
            sa.delete(self.switchboards).where(self.switchboards.c.contact_id.in_(ids))
        )
        numbers, prefixes = [], []
        for contact in contacts:
            cid = contact.contact_id
            unique = {p.number: p for p in contact.phones if p.number}
            numbers += [
                {"number": n, "contact_id": cid, "label": p.label, "raw": p.raw}
                for n, p in unique.items()
            ]
            prefixes += [{"prefix": p, "contact_id": cid} for p in switchboard_prefixes(contact)]
        if numbers:
            await conn.execute(sa.insert(self.numbers), numbers)
        if prefixes:
            await conn.execute(sa.insert(self.switchboards), prefixes)

    async def _put_signature_numbers(self, conn: AsyncConnection, contacts: list[Contact]) -> None:
        """Replaces the numbers offered from these contacts' email signatures."""
        if not contacts:
            return
        table = self.signature_numbers
        ids = [c.contact_id for c in contacts]
        await conn.execute(sa.delete(table).where(table.c.contact_id.in_(ids)))
        rows = [
            {"number": number, "contact_id": c.contact_id}
            for c in contacts
            for number in {p.number for p in c.signature_phones}
        ]
        if rows:
            await conn.execute(sa.insert(table), rows)

    async def _put_emails(self, conn: AsyncConnection, contacts: list[Contact]) -> None:
        """Replaces the addresses of these contacts."""
        if not contacts:
            return
        ids = [c.contact_id for c in contacts]
        await conn.execute(sa.delete(self.emails).where(self.emails.c.contact_id.in_(ids)))
        rows = [
            {"address": address, "contact_id": c.contact_id}
            for c in contacts
            for address in {normalize_email(e) for e in c.emails} - {None}
        ]
        if rows:
            await conn.execute(sa.insert(self.emails), rows)


def _redirect(cards: dict[str, Contact], event: ContactsMerged) -> dict[str, Contact]:
    """Cards that pointed at the merged contact now point at its survivor."""
    return {
        i: replace(c, merged_into=event.survivor_id) if c.merged_into == event.merged_id else c
        for i, c in cards.items()
    }


def _card_row(c: Contact) -> dict[str, Any]:
    return {
        "contact_id": c.contact_id,
        "kind": c.kind,
        "given_name": c.given_name,
        "family_name": c.family_name,
        "company": c.company,
        "display_name": c.display_name,
        "customer_number": c.customer_number,
        "merged_into": c.merged_into,
    }


def _card(row: Any) -> Contact:
    return Contact(
        contact_id=row.contact_id,
        version=1,
        kind=row.kind,
        given_name=row.given_name,
        family_name=row.family_name,
        company=row.company,
        customer_number=row.customer_number,
        merged_into=row.merged_into,
    )
