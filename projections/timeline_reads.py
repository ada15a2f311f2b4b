"""Reading the timeline: a contact's page, threads, search; personal fields opened on read.

Every method returns entries whose personal fields come from the sealed events (see
projections/sealed.py and timeline_rows.py), never from the rows themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from projections import search, timeline_rows
from projections.sealed import personal_fields

SEARCHED_KINDS = ("email", "fax", "note")


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a contact's history."""

    entry_id: str
    kind: str  # email, call, fax, note, task, risk
    at: datetime
    position: int
    contact_id: str | None
    label: str | None  # complaint, praise, neutral (from the classifier)
    data: dict[str, Any]
    # The classified message (its stream is ``classification-<label_position>``): the
    # entry's own event, or one that added to it (a fax's OCR text).
    label_position: int | None = None


class TimelineReads:
    """The timeline's queries (mixed into the projection, which owns the tables)."""

    entries: ClassVar[sa.Table]
    parties: ClassVar[sa.Table]
    text: ClassVar[sa.Table]
    text_subjects: ClassVar[sa.Table]

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
        page = self.contact_query(contact_ids, parties, kinds=kinds, since=since, until=until)
        wanted = page.limit(limit).offset(offset).subquery()
        # Full rows (with their data) only for the page: sorting thousands of them is the cost.
        query = sa.select(t).join(wanted, wanted.c.entry_id == t.c.entry_id)
        return await self._read(conn, query.order_by(t.c.at.desc(), t.c.position.desc()))

    def contact_query(
        self,
        contact_ids: Collection[str],
        parties: Collection[str],
        *,
        kinds: Collection[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> sa.Select[Any]:
        """The ids of a contact's entries, newest first, unlimited."""
        t, p = self.entries, self.parties
        # Two index lookups joined by UNION, rather than one OR across both columns.
        by_id = sa.select(t.c.entry_id).where(t.c.contact_id.in_(list(contact_ids)))
        by_party = sa.select(p.c.entry_id).where(p.c.party.in_(list(parties)))
        mine = sa.union(by_id, by_party).subquery()
        query = sa.select(t.c.entry_id).join(mine, mine.c.entry_id == t.c.entry_id)
        if kinds:
            query = query.where(t.c.kind.in_(list(kinds)))
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        return query.order_by(t.c.at.desc(), t.c.position.desc())

    async def get(self, conn: AsyncConnection, entry_id: str) -> Entry | None:
        found = await self._read(
            conn, sa.select(self.entries).where(self.entries.c.entry_id == entry_id)
        )
        return found[0] if found else None

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
        return await self._read(conn, query)

    async def labelled(
        self,
        conn: AsyncConnection,
        since: datetime,
        label: str | None = None,
        limit: int = 200,
    ) -> list[Entry]:
        """Messages the classifier labelled (with `label`, or any) since a moment, newest
        first (the page where staff correct labels)."""
        t = self.entries
        wanted = t.c.label.is_not(None) if label is None else t.c.label == label
        query = (
            sa.select(t)
            .where(wanted, t.c.at >= since, t.c.kind.in_(SEARCHED_KINDS))
            .order_by(t.c.at.desc(), t.c.position.desc())
            .limit(limit)
        )
        return await self._read(conn, query)

    async def labelled_messages(
        self, conn: AsyncConnection, positions: Sequence[int]
    ) -> dict[int, Entry]:
        """The entries of classified messages, by the message's position (label_position)."""
        if not positions:
            return {}
        t = self.entries
        query = sa.select(t).where(
            t.c.label_position.in_(list(positions)), t.c.kind.in_(SEARCHED_KINDS)
        )
        return {e.label_position: e for e in await self._read(conn, query) if e.label_position}

    async def latest_labelled(
        self, conn: AsyncConnection, contact_id: str, label: str
    ) -> Entry | None:
        """A contact's newest entry with this classifier label (e.g. the last complaint)."""
        t = self.entries
        query = (
            sa.select(t)
            .where(t.c.contact_id == contact_id, t.c.label == label)
            .order_by(t.c.at.desc())
            .limit(1)
        )
        found = await self._read(conn, query)
        return found[0] if found else None

    async def thread(self, conn: AsyncConnection, thread: str, limit: int = 200) -> list[Entry]:
        """The emails of one thread, oldest first."""
        t = self.entries
        query = sa.select(t).where(t.c.thread == thread).order_by(t.c.at, t.c.position)
        return await self._read(conn, query.limit(limit))

    async def thread_sizes(self, conn: AsyncConnection, threads: Collection[str]) -> dict[str, int]:
        """How many emails each of these threads holds."""
        if not threads:
            return {}
        t = self.entries
        query = (
            sa.select(t.c.thread, sa.func.count())
            .where(t.c.thread.in_(list(threads)))
            .group_by(t.c.thread)
        )
        return {row[0]: int(row[1]) for row in await conn.execute(query)}

    async def search(self, conn: AsyncConnection, text: str, limit: int = 20) -> list[Entry]:
        """Emails, faxes and notes whose subject or text holds every fragment, newest first."""
        condition = search.matching(conn, self.text, "timeline_fts", text)
        if condition is None:
            return []
        t = self.entries
        hits = sa.select(self.text.c.entry_id).where(condition)
        query = (
            sa.select(t)
            .where(t.c.entry_id.in_(hits), t.c.kind.in_(SEARCHED_KINDS))
            .order_by(t.c.at.desc())
            .limit(limit)
        )
        return await self._read(conn, query)

    async def forget_text(self, conn: AsyncConnection, subject: str) -> int:
        """Drops a data subject's messages from search (part of erasing them)."""
        t, s = self.text, self.text_subjects
        theirs = sa.select(s.c.entry_id).where(s.c.subject == subject)
        result = await conn.execute(sa.delete(t).where(t.c.entry_id.in_(theirs)))
        await conn.execute(sa.delete(s).where(s.c.subject == subject))
        return int(result.rowcount or 0)

    async def unlinked(self, conn: AsyncConnection, entry_ids: Collection[str]) -> set[str]:
        """Those of `entry_ids` (messages) that have no contact id yet."""
        t = self.entries
        query = sa.select(t.c.entry_id).where(
            t.c.entry_id.in_(list(entry_ids)), t.c.contact_id.is_(None)
        )
        return {row.entry_id for row in await conn.execute(query)}

    async def _read(self, conn: AsyncConnection, query: sa.Select[Any]) -> list[Entry]:
        rows = [(row, orjson.loads(row.data)) for row in await conn.execute(query)]
        positions = {p for _, data in rows for p in timeline_rows.positions_of(data)}
        documents = await personal_fields(conn, positions)
        return [_entry(row, timeline_rows.opened(data, documents)) for row, data in rows]


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _entry(row: Any, data: dict[str, Any]) -> Entry:
    return Entry(
        row.entry_id,
        row.kind,
        aware(row.at),
        int(row.position),
        row.contact_id,
        row.label,
        data,
        row.label_position,
    )
