"""Email read model: messages, their participants, mailboxes and threads; unknown senders.

Faxes are listed here too (direction "fax", the sender's E.164 number in `sender`), so
unknown fax senders are found the way unknown email senders are.

Which contact a message belongs to is not stored here (invariant 7): the timeline joins
participants with the identity index at read time, so a contact who gains an address
later sees their old mail. Staff assignments (CommunicationLinked) are kept as links.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.fax import FaxReceived
from hub.events.mail import (
    CaptureFailed,
    CommunicationLinked,
    EmailReceived,
    EmailSeenInMailbox,
    EmailSent,
    message_key,
)
from hub.sql import dialect_insert
from projections.batch_writes import BatchWriter
from projections.identity import IdentityIndex


@dataclass(frozen=True, slots=True)
class UnknownSender:
    address: str
    name: str
    messages: int
    last_subject: str
    last_stream: str
    kind: str = "email"  # email: `address` is an email address; fax: an E.164 number


class MailIndex:
    """Messages by participant and thread, for timelines and the "unknown senders" list."""

    name = "mail"
    version = 4  # 4: Message-IDs and threads as message keys (hashes)
    event_types = frozenset(
        {
            "EmailReceived",
            "EmailSent",
            "EmailSeenInMailbox",
            "CaptureFailed",
            "CommunicationLinked",
            "FaxReceived",
        }
    )
    tables = sa.MetaData()
    messages = sa.Table(
        "mail_messages",
        tables,
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False, index=True),
        sa.Column("direction", sa.Text, nullable=False),  # in, out, failed, fax
        sa.Column("sender", sa.Text, nullable=False, index=True),
        sa.Column("sender_name", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.Text, nullable=True, index=True),
        sa.Column("thread", sa.Text, nullable=False, index=True),
        sa.Column("attachments", sa.Integer, nullable=False),
    )
    participants = sa.Table(
        "mail_participants",
        tables,
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("address", sa.Text, primary_key=True, index=True),
        sa.Column("role", sa.Text, primary_key=True),  # from, to, cc, bcc
    )
    mailboxes = sa.Table(
        "mail_mailboxes",
        tables,
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("mailbox", sa.Text, primary_key=True),
    )
    # Phone/fax numbers from the signatures of a sender's mail, offered on their contact
    # ("from signature") so a later call from that number is recognised.
    signature_numbers = sa.Table(
        "mail_signature_numbers",
        tables,
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),  # phone, fax
        sa.Column("stream", sa.Text, nullable=False),
    )
    links = sa.Table(
        "mail_links",
        tables,
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("contact_id", sa.Text, primary_key=True, index=True),
    )

    def __init__(self) -> None:
        # The batch's INSERTs, built once per database kind (building them each batch cost
        # more of the event loop's time than the rows did).
        self._inserts: dict[str, list[tuple[str, sa.Executable]]] = {}
        self._writer = BatchWriter()

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        rows: dict[str, list[dict[str, object]]] = {
            "messages": [],
            "participants": [],
            "mailboxes": [],
            "links": [],
            "numbers": [],
        }
        for r in batch:
            match r.event:
                case EmailReceived() | EmailSent() as mail:
                    _message_rows(rows, r, mail)
                case EmailSeenInMailbox(mailbox=mailbox):
                    rows["mailboxes"].append({"stream": r.stream, "mailbox": mailbox})
                case FaxReceived() as fax:
                    rows["messages"].append(_fax_row(r, fax))
                case CaptureFailed(source=source):
                    rows["messages"].append(_row(r, "failed", "", "", source))
                case CommunicationLinked(message_stream=stream, contact_id=contact):
                    rows["links"].append({"stream": stream, "contact_id": contact})
        # One statement per table and batch: capture appends thousands of messages at once.
        inserts = self._inserts.get(conn.dialect.name)
        if inserts is None:
            inserts = self._inserts[conn.dialect.name] = [
                (name, dialect_insert(conn, table).on_conflict_do_nothing())
                for name, table in (
                    ("messages", self.messages),
                    ("participants", self.participants),
                    ("mailboxes", self.mailboxes),
                    ("links", self.links),
                    ("numbers", self.signature_numbers),
                )
            ]
        await self._writer.write(conn, [(insert, rows[name]) for name, insert in inserts])

    # -- queries -------------------------------------------------------------------

    async def streams_for(
        self, conn: AsyncConnection, addresses: Sequence[str], limit: int = 200
    ) -> list[str]:
        """Messages any of these addresses took part in, newest first."""
        p, m = self.participants.c, self.messages.c
        rows = await conn.execute(
            sa.select(m.stream, m.position)
            .distinct()
            .join(self.participants, p.stream == m.stream)
            .where(p.address.in_([a.lower() for a in addresses]))
            .order_by(m.position.desc())
            .limit(limit)
        )
        return [s for s, _ in rows]

    async def thread(self, conn: AsyncConnection, stream: str) -> list[str]:
        m = self.messages.c
        root = sa.select(m.thread).where(m.stream == stream).scalar_subquery()
        rows = await conn.execute(sa.select(m.stream).where(m.thread == root).order_by(m.position))
        return [s for (s,) in rows]

    async def mailboxes_of(self, conn: AsyncConnection, stream: str) -> list[str]:
        c = self.mailboxes.c
        rows = await conn.execute(
            sa.select(c.mailbox).where(c.stream == stream).order_by(c.mailbox)
        )
        return [b for (b,) in rows]

    async def numbers_from_signatures(
        self, conn: AsyncConnection, addresses: Sequence[str]
    ) -> list[tuple[str, str]]:
        """(E.164 number, phone/fax) found in signatures of mail from these addresses."""
        c = self.signature_numbers.c
        rows = await conn.execute(
            sa.select(c.number, c.kind)
            .distinct()
            .where(c.address.in_([a.lower() for a in addresses]))
            .order_by(c.number)
        )
        return [(n, k) for n, k in rows]

    async def unknown_senders(
        self, conn: AsyncConnection, identity: IdentityIndex, limit: int = 100
    ) -> list[UnknownSender]:
        """Senders of received mail who match no contact and whose mail nobody assigned."""
        return await self._unknown(conn, "in", identity.lookup_email, limit)

    async def unknown_fax_senders(
        self, conn: AsyncConnection, identity: IdentityIndex, limit: int = 100
    ) -> list[UnknownSender]:
        """Fax numbers that match no contact (nor a company switchboard), faxes unassigned."""
        return await self._unknown(conn, "fax", identity.lookup_number, limit)

    async def unassigned_from(
        self, conn: AsyncConnection, sender: str, kind: str = "email", limit: int = 500
    ) -> list[str]:
        """Streams of a sender's received mail (or faxes) that nobody assigned yet."""
        m, links = self.messages.c, self.links.c
        direction = "fax" if kind == "fax" else "in"
        rows = await conn.execute(
            sa.select(m.stream)
            .where(
                m.direction == direction,
                m.sender == sender,
                ~m.stream.in_(sa.select(links.stream)),
            )
            .order_by(m.position)
            .limit(limit)
        )
        return [stream for (stream,) in rows]

    async def _unknown(
        self,
        conn: AsyncConnection,
        direction: str,
        lookup: Callable[[AsyncConnection, str], Awaitable[Any]],
        limit: int,
    ) -> list[UnknownSender]:
        m, links = self.messages.c, self.links.c
        rows = await conn.execute(
            sa.select(
                m.sender, sa.func.max(m.sender_name), sa.func.count(), sa.func.max(m.position)
            )
            .where(m.direction == direction, m.sender != "", ~m.stream.in_(sa.select(links.stream)))
            .group_by(m.sender)
            .order_by(sa.func.max(m.position).desc())
            .limit(limit * 3)
        )
        kind = "fax" if direction == "fax" else "email"
        found = []
        for sender, name, count, position in rows.all():
            if await lookup(conn, sender) is not None:
                continue
            last = (
                await conn.execute(sa.select(m.stream, m.subject).where(m.position == position))
            ).one()
            found.append(
                UnknownSender(sender, name or "", int(count), last.subject, last.stream, kind)
            )
            if len(found) >= limit:
                break
        return found


def _message_rows(
    rows: dict[str, list[dict[str, object]]], r: Recorded, mail: EmailReceived | EmailSent
) -> None:
    direction = "out" if isinstance(mail, EmailSent) else "in"
    row = _row(r, direction, mail.sender, mail.sender_name, mail.subject)
    row.update(
        date=mail.date,
        message_id=message_key(mail.message_id),
        thread=thread_of(mail, r.stream),
        attachments=len(mail.attachments),
    )
    rows["messages"].append(row)
    roles = [("from", mail.sender)] + [
        (role, a)
        for role, group in (("to", mail.to), ("cc", mail.cc), ("bcc", mail.bcc))
        for a in group
    ]
    seen = set()
    for role, address in roles:
        if address and (address, role) not in seen:
            seen.add((address, role))
            rows["participants"].append({"stream": r.stream, "address": address, "role": role})
    rows["mailboxes"].extend({"stream": r.stream, "mailbox": m} for m in mail.mailboxes)
    if direction == "in":
        for item in mail.signature_phones:
            kind, _, number = item.partition(":")
            rows["numbers"].append(
                {"address": mail.sender, "number": number, "kind": kind, "stream": r.stream}
            )


def _fax_row(r: Recorded, fax: FaxReceived) -> dict[str, object]:
    """A fax as a received message: its number as the sender, what the provider wrote
    (often the station id) as the name."""
    row = _row(r, "fax", fax.sender or "", fax.sender_raw[:200], fax.subject)
    row.update(date=fax.received_at, attachments=1 if fax.document_ref else 0)
    return row


def thread_of(mail: EmailReceived | EmailSent, stream: str) -> str:
    """The thread's root: the first Reference, else the replied-to id, else itself (as
    their `message_key`: this table keeps no Message-ID in plain text)."""
    return (
        message_key(mail.references[0] if mail.references else None)
        or message_key(mail.in_reply_to)
        or message_key(mail.message_id)
        or stream
    )


def _row(r: Recorded, direction: str, sender: str, name: str, subject: str) -> dict[str, object]:
    return {
        "stream": r.stream,
        "position": r.position,
        "direction": direction,
        "sender": sender,
        "sender_name": name,
        "subject": subject,
        "date": None,
        "message_id": None,
        "thread": r.stream,
        "attachments": 0,
    }


__all__ = ["MailIndex", "UnknownSender", "thread_of"]
