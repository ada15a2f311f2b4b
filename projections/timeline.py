"""The unified timeline: every email, call, fax, note, task and flag about a contact.

An entry is linked to contacts in two ways, both resolved when the card is read: by the
parties it names (``mail:<address>``, ``tel:<E.164>``, stored hashed), so a contact who
gains an address or absorbs a duplicate also gains its history; and by a contact id (notes,
tasks, a message staff assigned by hand, or the identity index's answer at capture time,
which catches switchboard extensions). Merged contacts' ids count for their survivor.

Rows keep no personal fields: reads open them from the sealed events (timeline_rows.py),
so erasing a person's key empties their entries without a rebuild. The one exception is
`timeline_text`, the message search index, which must hold searchable text; its rows carry
the data subject, so an erasure deletes them with one statement (`forget_text`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.contacts.keys import normalize_email
from hub.events import Recorded
from hub.events.calls import CallAnswered, CallEnded, CallPlaced, CallRinging
from hub.events.classification import ClassificationCorrected, CustomerAtRisk, MessageClassified
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.mail import CommunicationLinked, EmailReceived, EmailSent, message_key
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskAssigned, TaskCompleted, TaskOpened, TaskSnoozed
from hub.sql import UtcDateTime, dialect_insert, upsert
from projections import search, timeline_rows
from projections.batch_writes import BatchWriter
from projections.timeline_reads import SEARCHED_KINDS, Entry, TimelineReads, aware

KINDS = ("email", "call", "fax", "note", "task", "risk")
__all__ = ["KINDS", "SEARCHED_KINDS", "Entry", "Timeline", "mail_party", "tel_party"]


class Identity(Protocol):
    async def contacts_by_email(
        self, conn: AsyncConnection, addresses: Collection[str]
    ) -> dict[str, str]: ...
    async def lookup_number(self, conn: AsyncConnection, raw: str) -> Any: ...


def mail_party(address: str) -> str:
    return _party("mail", address.strip().lower())


def tel_party(number: str) -> str:
    return _party("tel", number)


def _party(kind: str, value: str) -> str:
    # Hashed so the table holds no address or number in the clear (pseudonymous only:
    # whoever knows an address can still compute its key).
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


class Timeline(TimelineReads):
    """Read model of every contact's history (projection "timeline")."""

    name = "timeline"
    # 4: moments stored in UTC (SQLite kept an aware time's local digits); 5: labels found
    # by the classified message's position (a note's stream is its contact's), kept in
    # `label_position`; 6: a staff correction (`data.corrected`) outlasts a later model.
    version = 7  # 7: Message-IDs and threads as message keys (hashes)
    event_types = (
        "EmailReceived",
        "EmailSent",
        "FaxReceived",
        "FaxTextRecognized",
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
        sa.Column("at", UtcDateTime, nullable=False, index=True),
        sa.Column("position", sa.BigInteger, nullable=False, index=True),
        sa.Column("contact_id", sa.Text),
        sa.Column("label", sa.Text),
        # The message whose classification gave `label` (its stream is
        # ``classification-<label_position>``): the entry's own event, or a later one
        # that added to it (a fax's OCR text).
        sa.Column("label_position", sa.BigInteger, index=True),
        sa.Column("thread", sa.Text, index=True),
        sa.Column("message_id", sa.Text, index=True),
        sa.Column("data", sa.Text, nullable=False),
        # A card reads one contact's entries newest first: this index answers it in order.
        sa.Index("timeline_entries_contact_at", "contact_id", "at"),
    )
    parties = sa.Table(
        "timeline_parties",
        tables,
        sa.Column("party", sa.Text, primary_key=True),
        sa.Column("entry_id", sa.Text, primary_key=True),
    )
    text = search.text_table(
        tables, "timeline_text", "timeline_fts", "entry_id", detail="none", batched=True
    )
    text_subjects = sa.Table(
        "timeline_text_subjects",
        tables,
        sa.Column("entry_id", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, nullable=False, index=True),
    )

    def __init__(self, identity: Identity | None = None) -> None:
        self.identity = identity
        # The batch's statements, built once per database kind: building an upsert (its
        # `excluded` alias and column collections) cost more of the event loop's time than
        # running it (py-spy on a first sync).
        self._writes: dict[str, _Writes] = {}
        self._writer = BatchWriter()

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        state = _Batch()
        await self._load(conn, batch, state)
        for r in batch:
            await self._step(conn, r, state)
        await self._write(conn, state)

    async def _load(self, conn: AsyncConnection, batch: Sequence[Recorded], state: _Batch) -> None:
        """Rows the batch updates (by id, by the message a classification names, by the
        label a correction changes) and threads it continues, a query each."""
        wanted: set[str] = set()
        classified: list[int] = []
        corrected: list[int] = []
        refs: set[str | None] = set()
        addresses: set[str] = set()
        for r in batch:  # one pass, each event's type tested once
            e = r.event
            if isinstance(e, EmailReceived | EmailSent):
                refs.update(map(state.key, (*e.references, e.in_reply_to)))
                addresses.update(_others(e))
            elif isinstance(e, MessageClassified):
                classified.append(e.message_position)
            elif isinstance(e, ClassificationCorrected):
                corrected.append(e.message_position)
            if (target := _target(r)) is not None:
                wanted.add(target)
        if wanted or classified or corrected:
            params = {"ids": list(wanted), "positions": classified, "labelled": corrected}
            for row in await conn.execute(_LOAD_ENTRIES, params):
                state.keep({**row._mapping, "data": orjson.loads(row.data)})
        if known := [ref for ref in refs if ref]:
            rows = await conn.execute(_LOAD_THREADS, {"refs": known})
            state.threads.update({row.message_id: row.thread for row in rows})
        if addresses and self.identity is not None:  # one query, not one per message
            state.contacts = await self.identity.contacts_by_email(conn, addresses)

    async def _write(self, conn: AsyncConnection, state: _Batch) -> None:
        writes = self._writes.get(conn.dialect.name)
        if writes is None:
            writes = self._writes[conn.dialect.name] = self._statements(conn)
        rows = [{**v, "data": orjson.dumps(v["data"]).decode()} for v in state.touched.values()]
        texts = [{"entry_id": k, "body": b} for k, (b, _) in state.texts.items()]
        subjects = [{"entry_id": k, "subject": s} for k, (_, s) in state.texts.items()]
        # SQLite's search index takes the batch's texts in one statement (search.IndexWrites).
        keys = [search.IndexWrites.params(state.texts)] if state.texts else []
        index = writes.index
        await self._writer.write(
            conn,
            [
                (writes.entries, rows),
                (writes.parties, state.links),
                *([(index.unindex, keys)] if index else []),
                (writes.text, texts),
                *([(index.index, keys)] if index else []),
                (writes.subjects, subjects),
            ],
        )

    def _statements(self, conn: AsyncConnection) -> _Writes:
        columns = ["kind", "at", "position", "contact_id", "label", "label_position"]
        columns += ["thread", "message_id", "data"]
        return _Writes(
            entries=upsert(conn, self.entries, ["entry_id"], columns),
            parties=dialect_insert(conn, self.parties).on_conflict_do_nothing(),
            text=upsert(conn, self.text, ["entry_id"], ["body"]),
            subjects=upsert(conn, self.text_subjects, ["entry_id"], ["subject"]),
            index=(
                search.index_writes(self.text, "timeline_fts", "entry_id")
                if conn.dialect.name == "sqlite"
                else None
            ),
        )

    async def _step(self, conn: AsyncConnection, r: Recorded, state: _Batch) -> None:
        e = r.event
        touched = state.touched
        at = aware(getattr(e, "at", None) or r.recorded_at)

        def new(entry_id: str, kind: str, contact_id: str | None, data: dict[str, Any]) -> None:
            state.keep(
                {
                    "entry_id": entry_id,
                    "kind": kind,
                    "at": at,
                    "position": r.position,
                    "contact_id": contact_id,
                    "label": None,
                    "label_position": None,
                    "thread": None,
                    "message_id": None,
                    "data": data,
                }
            )

        match e:
            case EmailReceived() | EmailSent():
                others = _others(e)
                at = aware(e.date or r.recorded_at)
                thread = timeline_rows.thread_key(e, state.threads, r.stream, state.key)
                if own := state.key(e.message_id):
                    state.threads.setdefault(own, thread)
                new(r.stream, "email", state.contact_of(others), {})
                touched[r.stream].update(
                    thread=thread,
                    message_id=own,
                    data=timeline_rows.email_data(e, r.position, thread, state.key),
                )
                state.links.extend(
                    {"party": mail_party(a), "entry_id": r.stream} for a in others if a
                )
                state.text(r.stream, e)
            case FaxReceived():
                at = aware(e.received_at or r.recorded_at)
                contact = await self._by_number(conn, e.sender or e.sender_raw)
                new(r.stream, "fax", contact, timeline_rows.fax_data(e, r.position))
                if e.sender:
                    state.links.append({"party": tel_party(e.sender), "entry_id": r.stream})
                state.text(r.stream, e)
            case FaxTextRecognized():
                entry = touched.get(e.fax_stream)
                if entry is not None:
                    timeline_rows.fax_text(entry["data"], e, r.position)
                    await self._add_text(conn, state, e)
            case CallRinging() | CallPlaced():
                number = e.callee if isinstance(e, CallPlaced) else e.caller
                raw = e.callee_raw if isinstance(e, CallPlaced) else e.caller_raw
                contact = await self._by_number(conn, number or raw)
                new(r.stream, "call", contact, timeline_rows.call_data(e, r.position))
                if number:
                    state.links.append({"party": tel_party(number), "entry_id": r.stream})
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
                    new(r.stream, "call", contact, timeline_rows.call_data(e, r.position))
                    entry = touched[r.stream]
                    if e.number:
                        state.links.append({"party": tel_party(e.number), "entry_id": r.stream})
                entry["data"].update(status=e.cause, duration=e.duration_seconds)
            case NoteAdded():
                entry_id = f"note-{e.note_id}"
                new(entry_id, "note", e.contact_id, timeline_rows.note_data(e, r.position))
                state.text(entry_id, e)
            case TaskOpened() if e.contact_id:
                data: dict[str, Any] = {"task_id": e.task_id, "title": e.title}
                data.update(task_kind=e.kind, status="open", assignee=e.assignee, reason=e.reason)
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
                entry = state.classified(e)
                if entry is not None:
                    # What staff said outlasts a later model's reading (`corrected`).
                    label = entry["data"].get("corrected") or e.label
                    entry.update(label=label, label_position=e.message_position)
                    state.labelled[e.message_position] = entry["entry_id"]
            case ClassificationCorrected():
                labelled = state.labelled.get(e.message_position)
                if labelled is not None:
                    touched[labelled]["label"] = e.label
                    touched[labelled]["data"]["corrected"] = e.label
            case CustomerAtRisk():
                new(
                    f"risk-{r.position}",
                    "risk",
                    e.contact_id,
                    {"reason": e.reason, "score": e.score, "reason_values": e.reason_values},
                )
            case CommunicationLinked():
                entry = touched.get(e.message_stream)
                if entry is not None:
                    entry["contact_id"] = e.contact_id

    async def _add_text(self, conn: AsyncConnection, state: _Batch, e: FaxTextRecognized) -> None:
        """A fax's recognized text joins its searchable text."""
        body = state.texts.get(e.fax_stream, ("", ""))[0]
        if not body:
            query = sa.select(self.text.c.body).where(self.text.c.entry_id == e.fax_stream)
            body = (await conn.execute(query)).scalar_one_or_none() or ""
        text = search.fold_one(e.text[: timeline_rows.FAX_SEARCH_CHARS])
        state.texts[e.fax_stream] = (f"{body}\n{text}", e.data_subject() or "")

    async def _by_number(self, conn: AsyncConnection, number: str | None) -> str | None:
        if self.identity is None or not number:
            return None
        match = await self.identity.lookup_number(conn, number)
        return str(match.contact_id) if match is not None else None


class _Batch:
    """What one batch changes: rows, party links, searchable texts, known threads."""

    def __init__(self) -> None:
        self.touched: dict[str, dict[str, Any]] = {}
        self.links: list[dict[str, str]] = []
        self.texts: dict[str, tuple[str, str]] = {}  # entry id -> (body, data subject)
        self.threads: dict[str, str] = {}  # Message-ID -> thread
        self.contacts: dict[str, str] = {}  # normalized address -> contact id
        self.made: dict[int, str] = {}  # position -> the entry its event made
        self.labelled: dict[int, str] = {}  # label_position -> entry id
        # Message-ID -> its `message_key`: an email's own id, In-Reply-To and References
        # are each hashed by the load, the thread and the row (a SHA-256 each time).
        self.keys: dict[str | None, str | None] = {}

    def key(self, message_id: str | None) -> str | None:
        if message_id not in self.keys:
            self.keys[message_id] = message_key(message_id)
        return self.keys[message_id]

    def keep(self, row: dict[str, Any]) -> None:
        """A row this batch writes back (new, or loaded to be updated)."""
        self.touched[row["entry_id"]] = row
        self.made[row["position"]] = row["entry_id"]
        if row["label_position"] is not None:
            self.labelled[row["label_position"]] = row["entry_id"]

    def classified(self, e: MessageClassified) -> dict[str, Any] | None:
        """The entry a classification labels: the one its message made (an email, fax or
        note: a note's stream is its contact's), else the one the message added to (a
        fax's later OCR text, on the fax's stream)."""
        entry_id = self.made.get(e.message_position)
        if entry_id is None:
            return self.touched.get(e.message_stream)
        return self.touched[entry_id]

    def contact_of(self, addresses: Sequence[str]) -> str | None:
        """The contact of the first address that has one (as prefetched by `_load`)."""
        if not self.contacts:  # none of the batch's addresses has one (a first sync's mail)
            return None
        for address in addresses:
            if (found := normalize_email(address)) is not None and found in self.contacts:
                return self.contacts[found]
        return None

    def text(self, entry_id: str, e: EmailReceived | EmailSent | FaxReceived | NoteAdded) -> None:
        self.texts[entry_id] = (timeline_rows.search_text(e), e.data_subject() or "")


@dataclass(frozen=True, slots=True)
class _Writes:
    """The statements that write a batch, for one kind of database."""

    entries: sa.Executable
    parties: sa.Executable
    text: sa.Executable
    subjects: sa.Executable
    index: search.IndexWrites | None  # SQLite's FTS5 index (PostgreSQL's GIN keeps itself)


_ENTRIES = Timeline.entries.c
# What a batch updates, loaded in one query (`_load`): entries by id, by the message a
# classification names, by the label a correction changes. Built once; the lists expand.
_LOAD_ENTRIES = sa.select(Timeline.entries).where(
    sa.or_(
        _ENTRIES.entry_id.in_(sa.bindparam("ids", expanding=True)),
        _ENTRIES.position.in_(sa.bindparam("positions", expanding=True)),
        _ENTRIES.label_position.in_(sa.bindparam("labelled", expanding=True)),
    )
)
_LOAD_THREADS = sa.select(_ENTRIES.message_id, _ENTRIES.thread).where(
    _ENTRIES.message_id.in_(sa.bindparam("refs", expanding=True))
)


def _others(e: object) -> list[str]:
    """The other side of an email: its recipients when sent, else its sender."""
    if isinstance(e, EmailSent):
        return [*e.to, *e.cc, *e.bcc]
    return [e.sender] if isinstance(e, EmailReceived) else []


def _target(r: Recorded) -> str | None:
    """The entry an event updates, when it updates one."""
    e = r.event
    if isinstance(e, CallAnswered | CallEnded):
        return r.stream
    if isinstance(e, TaskAssigned | TaskSnoozed | TaskCompleted):
        return f"task-{e.task_id}"
    if isinstance(e, MessageClassified | CommunicationLinked):
        return e.message_stream
    if isinstance(e, FaxTextRecognized):
        return e.fax_stream
    return None
