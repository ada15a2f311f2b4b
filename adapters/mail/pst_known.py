"""A PST copy of mail Kartei holds already is not stored a second time.

A rebuilt message (pst_eml.py) never has the bytes the mail server delivered, so its
capture key (Message-ID and a digest of the body) differs from the key of the same mail
captured by IMAP or SMTP, and it would become a second message in the customer's history.
The server's copy is the better original. So the import first looks for an email stored
under the same Message-ID (the capture key's first part) and keeps that one when its
sender and date agree too (a mailer that reuses Message-IDs does not hide a different
mail). A stored copy whose data subject was erased counts as present: the PST must not
bring back what was forgotten.

The other order (PST first, the server's copy later) stores both: the original must be
archived, and the log keeps what it holds (docs/archive.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from adapters.mail.parsing import MailParseError, parse_email
from hub.events import Recorded
from hub.events.mail import EmailReceived, EmailSent, message_key
from hub.store import EventStore
from hub.store.schema import events

# A date taken from Outlook's properties (sent mail keeps no header) may be the submit
# time rather than the Date field's: seconds apart, never minutes.
CLOSE = timedelta(minutes=5)
_MAIL = ("EmailReceived", "EmailSent")


@dataclass(frozen=True, slots=True)
class Identity:
    """What tells one mail from another beside its bytes."""

    message_id: str
    sender: str
    date: datetime | None

    def prefixes(self) -> tuple[str, str]:
        """The capture key's start, hashed and (mail captured before 2026-12) plain."""
        return f"email:{message_key(self.message_id)}:", f"email:{self.message_id}:"

    def same_as(self, stored: Recorded) -> bool:
        if stored.erased:
            return True
        mail = stored.event
        if not isinstance(mail, EmailReceived | EmailSent):
            return False
        if mail.message_id != self.message_id or mail.sender != self.sender:
            return False
        return mail.date is None or self.date is None or abs(mail.date - self.date) <= CLOSE


def identity(raw: bytes) -> Identity | None:
    """Message-ID, sender and date, parsed from the header alone (None without an id)."""
    end = raw.find(b"\r\n\r\n")
    try:
        mail = parse_email(raw[: end + 4] if end >= 0 else raw)
    except MailParseError:
        return None
    return Identity(mail.message_id, mail.sender, mail.date) if mail.message_id else None


async def already_stored(store: EventStore, raws: Sequence[bytes]) -> set[int]:
    """Which of the rebuilt messages (by index) the store holds already."""
    found = await asyncio.to_thread(lambda: [identity(raw) for raw in raws])
    wanted = {i: mail for i, mail in enumerate(found) if mail is not None}
    if not wanted:
        return set()
    prefixes = {p for mail in wanted.values() for p in mail.prefixes()}
    # A range on the unique index, not LIKE (which PostgreSQL's index serves only in the
    # C collation): a key goes on with the digest's lower-case hex, all below "g".
    # (The type is checked here, not in the query: SQLite would pick the type's index.)
    key = events.c.idempotency_key
    query = sa.select(events.c.position, key, events.c.type).where(
        sa.or_(*(key.between(p, p + "g") for p in sorted(prefixes)))
    )
    async with store.db.read() as conn:
        rows = (await conn.execute(query)).all()
    by_prefix: dict[str, list[int]] = {}
    for position, stored_key, kind in rows:
        if kind not in _MAIL:
            continue
        prefix = next((p for p in prefixes if stored_key.startswith(p)), None)
        if prefix is not None:
            by_prefix.setdefault(prefix, []).append(int(position))
    candidates = {p for positions in by_prefix.values() for p in positions}
    stored = {r.position: r for r in await store.read_positions(candidates)} if candidates else {}
    return {
        i
        for i, mail in wanted.items()
        if any(
            mail.same_as(stored[position])
            for prefix in mail.prefixes()
            for position in by_prefix.get(prefix, ())
            if position in stored
        )
    }
