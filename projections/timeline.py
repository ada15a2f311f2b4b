"""The unified timeline: every email, call, note, task and flag about a contact, newest first.

An entry is linked to contacts in two ways, both resolved when the card is read: by the
parties it names (``mail:<address>``, ``tel:<E.164>``), so a contact who gains an address
or absorbs a duplicate also gains its history; and by a contact id (notes, tasks, a
message staff assigned by hand, or the identity index's answer at capture time, which
catches switchboard extensions). Merged contacts' ids count for their survivor.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.calls import CallAnswered, CallEnded, CallPlaced, CallRinging
from hub.events.classification import ClassificationCorrected, CustomerAtRisk, MessageClassified
from hub.events.mail import CommunicationLinked, EmailReceived, EmailSent
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskAssigned, TaskCompleted, TaskOpened, TaskSnoozed
from hub.sql import dialect_insert, upsert

KINDS = ("email", "call", "note", "task", "risk")
SNIPPET_CHARS = 400


class Identity(Protocol):
    async def lookup_email(self, conn: AsyncConnection, address: str) -> Any: ...
    async def lookup_number(self, conn: AsyncConnection, raw: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a contact's history."""

    entry_id: str
    kind: str  # email, call, note, task, risk
    at: datetime
    position: int
    contact_id: str | None
    label: str | None  # complaint, praise, neutral (from the classifier)
    data: dict[str, Any]


def mail_party(address: str) -> str:
    return f"mail:{address.strip().lower()}"


def tel_party(number: str) -> str:
    return f"tel:{number}"


class Timeline:
    """Read model of every contact's history (projection "timeline")."""

    name = "timeline"
    version = 1
    event_types = (
        "EmailReceived",
        "EmailSent",
        "CallRinging",
        "CallPlaced",
        "CallAnswered",
        "CallEnded",
        "NoteAdded",
        "TaskOpened",
        "TaskAssigned",
        "TaskSnoozed",
        "TaskCompleted",
        "MessageClassified",
        "ClassificationCorrected",
        "CustomerAtRisk",
        "CommunicationLinked",
    )
    tables = sa.MetaData()
    entries = sa.Table(
        "timeline_entries",
        tables,
        sa.Column("entry_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("position", sa.BigInteger, nullable=False, index=True),
        sa.Column("contact_id", sa.Text, index=True),
        sa.Column("label", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
    )
    parties = sa.Table(
        "timeline_parties",
        tables,
        sa.Column("party", sa.Text, primary_key=True),
        sa.Column("entry_id", sa.Text, primary_key=True),
    )

    def __init__(self, identity: Identity | None = None) -> None:
        self.identity = identity

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        touched: dict[str, dict[str, Any]] = {}
        links: list[dict[str, str]] = []
        wanted = {_target(r) for r in batch} - {None}
        if wanted:
            rows = await conn.execute(
                sa.select(self.entries).where(self.entries.c.entry_id.in_(list(wanted)))
            )
            for row in rows:
                touched[row.entry_id] = {**row._mapping, "data": orjson.loads(row.data)}
        for r in batch:
            await self._step(conn, r, touched, links)
        if touched:
            rows_out = [{**v, "data": orjson.dumps(v["data"]).decode()} for v in touched.values()]
            columns = ["kind", "at", "position", "contact_id", "label", "data"]
            await conn.execute(upsert(conn, self.entries, ["entry_id"], columns), rows_out)
        if links:
            insert = dialect_insert(conn, self.parties).on_conflict_do_nothing()
            await conn.execute(insert, links)

    async def _step(
        self,
        conn: AsyncConnection,
        r: Recorded,
        touched: dict[str, dict[str, Any]],
        links: list[dict[str, str]],
    ) -> None:
        e = r.event
        at = _aware(getattr(e, "at", None) or r.recorded_at)

        def new(entry_id: str, kind: str, contact_id: str | None, data: dict[str, Any]) -> None:
            touched[entry_id] = {
                "entry_id": entry_id,
                "kind": kind,
                "at": at,
                "position": r.position,
                "contact_id": contact_id,
                "label": None,
                "data": data,
            }

        match e:
            case EmailReceived() | EmailSent():
                outbound = isinstance(e, EmailSent)
                others = [*e.to, *e.cc, *e.bcc] if outbound else [e.sender]
                at = _aware(e.date or r.recorded_at)
                contact = await self._by_email(conn, others)
                new(r.stream, "email", contact, _email_data(e, outbound))
                links.extend({"party": mail_party(a), "entry_id": r.stream} for a in others if a)
            case CallRinging() | CallPlaced():
                outbound = isinstance(e, CallPlaced)
                number = e.callee if isinstance(e, CallPlaced) else e.caller
                raw = e.callee_raw if isinstance(e, CallPlaced) else e.caller_raw
                contact = await self._by_number(conn, number or raw)
                data = {
                    "direction": "outbound" if outbound else "inbound",
                    "status": "ringing",
                    "number": number,
                    "raw": raw,
                    "name": "" if outbound else e.caller_name,
                    "line": e.line,
                    "extension": e.extension,
                    "duration": None,
                    "answered_by": None,
                }
                new(r.stream, "call", contact, data)
                if number:
                    links.append({"party": tel_party(number), "entry_id": r.stream})
            case CallAnswered():
                entry = touched.get(r.stream)
                if entry is not None:
                    entry["data"].update(
                        status="answered", answered_by=e.answered_by or e.extension
                    )
            case CallEnded():
                entry = touched.get(r.stream)
                if entry is None:
                    contact = await self._by_number(conn, e.number or e.number_raw)
                    data = {"direction": e.direction, "number": e.number, "raw": e.number_raw}
                    data.update(name="", line=e.line, extension=e.extension, answered_by=None)
                    new(r.stream, "call", contact, data)
                    entry = touched[r.stream]
                    if e.number:
                        links.append({"party": tel_party(e.number), "entry_id": r.stream})
                entry["data"].update(status=e.cause, duration=e.duration_seconds)
            case NoteAdded():
                data = {"text": e.text, "by": e.by, "about": e.about_stream}
                new(f"note-{e.note_id}", "note", e.contact_id, data)
            case TaskOpened() if e.contact_id:
                data = {"task_id": e.task_id, "title": e.title, "task_kind": e.kind}
                data.update(status="open", assignee=e.assignee, reason=e.reason)
                new(f"task-{e.task_id}", "task", e.contact_id, data)
            case TaskAssigned() | TaskSnoozed() | TaskCompleted():
                entry = touched.get(f"task-{e.task_id}")
                if entry is not None:
                    if isinstance(e, TaskAssigned):
                        entry["data"]["assignee"] = e.assignee
                    elif isinstance(e, TaskSnoozed):
                        entry["data"]["status"] = "snoozed"
                    else:
                        entry["data"].update(status="done", by=e.by, note=e.note)
            case MessageClassified():
                entry = touched.get(e.message_stream)
                if entry is not None:
                    entry["label"] = e.label
            case ClassificationCorrected():
                await conn.execute(
                    sa.update(self.entries)
                    .where(self.entries.c.position == e.message_position)
                    .values(label=e.label)
                )
                for entry in touched.values():
                    if entry["position"] == e.message_position:
                        entry["label"] = e.label
            case CustomerAtRisk():
                data = {"reason": e.reason, "score": e.score}
                new(f"risk-{r.position}", "risk", e.contact_id, data)
            case CommunicationLinked():
                entry = touched.get(e.message_stream)
                if entry is not None:
                    entry["contact_id"] = e.contact_id

    async def _by_email(self, conn: AsyncConnection, addresses: list[str]) -> str | None:
        if self.identity is None:
            return None
        for address in addresses:
            match = await self.identity.lookup_email(conn, address)
            if match is not None:
                return str(match.contact_id)
        return None

    async def _by_number(self, conn: AsyncConnection, number: str | None) -> str | None:
        if self.identity is None or not number:
            return None
        match = await self.identity.lookup_number(conn, number)
        return str(match.contact_id) if match is not None else None

    # -- reading --------------------------------------------------------------------------

    async def for_contact(
        self,
        conn: AsyncConnection,
        contact_ids: Collection[str],
        parties: Collection[str],
        *,
        kinds: Collection[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Entry]:
        """A contact's entries, newest first: its ids (merged ones too) and its parties."""
        t = self.entries
        linked = sa.select(self.parties.c.entry_id).where(self.parties.c.party.in_(list(parties)))
        query = sa.select(t).where(
            sa.or_(t.c.contact_id.in_(list(contact_ids)), t.c.entry_id.in_(linked))
        )
        if kinds:
            query = query.where(t.c.kind.in_(list(kinds)))
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        query = query.order_by(t.c.at.desc(), t.c.position.desc()).limit(limit).offset(offset)
        return [entry_from_row(row) for row in await conn.execute(query)]

    async def get(self, conn: AsyncConnection, entry_id: str) -> Entry | None:
        row = (
            await conn.execute(sa.select(self.entries).where(self.entries.c.entry_id == entry_id))
        ).first()
        return entry_from_row(row) if row is not None else None

    async def recent(
        self, conn: AsyncConnection, kind: str, since: datetime, limit: int = 200
    ) -> list[Entry]:
        """Entries of one kind since a moment, newest first (the dashboard)."""
        t = self.entries
        query = (
            sa.select(t)
            .where(t.c.kind == kind, t.c.at >= since)
            .order_by(t.c.at.desc())
            .limit(limit)
        )
        return [entry_from_row(row) for row in await conn.execute(query)]

    async def unlinked(self, conn: AsyncConnection, entry_ids: Collection[str]) -> set[str]:
        """Those of `entry_ids` (messages) that have no contact id yet."""
        t = self.entries
        query = sa.select(t.c.entry_id).where(
            t.c.entry_id.in_(list(entry_ids)), t.c.contact_id.is_(None)
        )
        return {row.entry_id for row in await conn.execute(query)}


def _target(r: Recorded) -> str | None:
    """The entry an event updates, when it updates one."""
    e = r.event
    if isinstance(e, CallAnswered | CallEnded):
        return r.stream
    if isinstance(e, TaskAssigned | TaskSnoozed | TaskCompleted):
        return f"task-{e.task_id}"
    if isinstance(e, MessageClassified | CommunicationLinked):
        return e.message_stream
    return None


def _email_data(e: EmailReceived | EmailSent, outbound: bool) -> dict[str, Any]:
    return {
        "direction": "outbound" if outbound else "inbound",
        "sender": e.sender,
        "sender_name": e.sender_name,
        "to": list(e.to),
        "cc": list(e.cc),
        "subject": e.subject,
        "snippet": e.text[:SNIPPET_CHARS],
        "html_ref": e.html_ref,
        "message_id": e.message_id,
        "in_reply_to": e.in_reply_to,
        "thread": (e.references[0] if e.references else e.in_reply_to) or e.message_id,
        "attachments": [
            {"name": a.name, "type": a.content_type, "size": a.size, "ref": a.ref}
            for a in e.attachments
        ],
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def entry_from_row(row: Any) -> Entry:
    return Entry(
        row.entry_id,
        row.kind,
        _aware(row.at),
        int(row.position),
        row.contact_id,
        row.label,
        orjson.loads(row.data),
    )
