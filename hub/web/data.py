"""What pages and the API show, read from the projections (each one optional)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.risk_reason import remarks_of
from projections.timeline import Entry, mail_party, tel_party

if TYPE_CHECKING:
    from hub.contacts.model import Contact
    from hub.web.port import Hub

PAGE_SIZE = 50
MISSED_DAYS = 7  # the dashboard lists missed calls still owed a call back this far back
MAX_CALLS = 500


def projection(kartei: Hub, name: str) -> Any:
    runner = kartei.projections.get(name)
    return runner.projection if runner is not None else None


@dataclass
class Card:
    """A contact's card: the contact, its history page, open tasks, risk."""

    contact: Contact
    entries: list[Entry] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    risk: dict[str, Any] | None = None
    merged_ids: list[str] = field(default_factory=list)
    more: bool = False
    # Emails of one thread on this page sit under the newest: (entry, older ones of its thread).
    groups: list[tuple[Entry, list[Entry]]] = field(default_factory=list)
    thread_sizes: dict[str, int] = field(default_factory=dict)
    # A company's card lists its people and shows their history with its own.
    people: list[Contact] = field(default_factory=list)
    who: dict[str, str] = field(default_factory=dict)  # their names, by contact id


async def contact_names(kartei: Hub, ids: set[str]) -> dict[str, str]:
    """Display names of these contacts (ids without a card are left out)."""
    directory = projection(kartei, "contacts")
    names: dict[str, str] = {}
    if directory is None:
        return names
    async with kartei.store.db.read() as conn:
        for cid in ids:
            contact = await directory.get(conn, cid)
            if contact is not None:
                names[cid] = contact.display_name
    return names


# Consent channels by their catalogue name (hub/web/i18n.py).
CHANNEL_TEXT = {"email": "Email", "phone": "Phone", "fax": "Fax", "letter": "Letter"}


async def contact_blocks(kartei: Hub, ids: set[str]) -> dict[str, list[str]]:
    """The channels each of these contacts asked not to be contacted on (catalogue
    names), for contacts that blocked any."""
    directory = projection(kartei, "contacts")
    blocks: dict[str, list[str]] = {}
    if directory is None:
        return blocks
    async with kartei.store.db.read() as conn:
        for cid in ids:
            contact = await directory.get(conn, cid)
            if contact is not None and (blocked := contact.blocked(*CHANNEL_TEXT)):
                blocks[cid] = [CHANNEL_TEXT[c.channel] for c in blocked]
    return blocks


def threaded(entries: list[Entry]) -> list[tuple[Entry, list[Entry]]]:
    """Entries in order, each email thread's older messages grouped under its newest."""
    groups: list[tuple[Entry, list[Entry]]] = []
    heads: dict[str, list[Entry]] = {}
    for entry in entries:
        thread = entry.data.get("thread") if entry.kind == "email" else None
        if thread and thread in heads:
            heads[thread].append(entry)
            continue
        replies: list[Entry] = []
        if thread:
            heads[thread] = replies
        groups.append((entry, replies))
    return groups


async def merged_into(conn: AsyncConnection, kartei: Hub, contact_id: str) -> list[str]:
    """The ids of contacts merged into this one (directly or through a chain)."""
    directory = projection(kartei, "contacts")
    if directory is None:
        return []
    table = directory.contacts
    rows = await conn.execute(
        sa.select(table.c.contact_id).where(table.c.merged_into == contact_id)
    )
    return [row.contact_id for row in rows]


def parties_of(contact: Contact) -> list[str]:
    return [mail_party(a) for a in contact.emails] + [tel_party(p.number) for p in contact.phones]


async def card(
    kartei: Hub,
    contact_id: str,
    *,
    kinds: tuple[str, ...] = (),
    since: datetime | None = None,
    page: int = 0,
    limit: int = PAGE_SIZE,
) -> Card | None:
    directory = projection(kartei, "contacts")
    if directory is None:
        return None
    async with kartei.store.db.read() as conn:
        contact = await directory.get(conn, contact_id)
        if contact is None:
            return None
        result = Card(contact)
        if contact.merged_into:
            return result
        result.merged_ids = await merged_into(conn, kartei, contact_id)
        ids = [contact_id, *result.merged_ids]
        parties = parties_of(contact)
        if contact.kind == "company":
            result.people = await people_of(conn, kartei, contact_id)
            for person in result.people:
                ids.append(person.contact_id)
                parties.extend(parties_of(person))
                result.who[person.contact_id] = person.display_name
        timeline = projection(kartei, "timeline")
        if timeline is not None:
            entries = await timeline.for_contact(
                conn,
                ids,
                parties,
                kinds=kinds,
                since=since,
                limit=limit + 1,
                offset=page * limit,
            )
            result.more = len(entries) > limit
            result.entries = entries[:limit]
            for entry in result.entries:
                if entry.kind == "risk":  # why, to say in the reader's language
                    entry.data["remarks"] = remarks_of(entry.data.get("reason_values"))
            result.groups = threaded(result.entries)
            threads = {e.data["thread"] for e in result.entries if e.data.get("thread")}
            result.thread_sizes = await timeline.thread_sizes(conn, threads)
        tasks = projection(kartei, "tasks")
        if tasks is not None:
            for cid in ids:
                result.tasks.extend(await tasks.unfinished(conn, contact_id=cid, limit=20))
        result.risk = await risk_of(conn, kartei, contact_id)
    return result


async def people_of(conn: AsyncConnection, kartei: Hub, company_id: str) -> list[Contact]:
    """The live contacts that work at this company, by name."""
    directory = projection(kartei, "contacts")
    table = directory.contacts
    query = sa.select(table.c.contact_id).where(
        table.c.company_id == company_id, table.c.merged_into.is_(None)
    )
    ids = {row.contact_id for row in await conn.execute(query)}
    found = [await directory.get(conn, i) for i in sorted(ids)]
    return sorted((c for c in found if c is not None), key=lambda c: c.display_name)


async def email_thread(kartei: Hub, stream: str) -> list[Entry]:
    """The emails of the thread `stream` belongs to, oldest first (only itself if alone)."""
    timeline = projection(kartei, "timeline")
    if timeline is None:
        return []
    async with kartei.store.db.read() as conn:
        entry = await timeline.get(conn, stream)
        if entry is None or not entry.data.get("thread"):
            return [entry] if entry is not None else []
        return await timeline.thread(conn, entry.data["thread"])  # type: ignore[no-any-return]


async def risk_of(conn: AsyncConnection, kartei: Hub, contact_id: str) -> dict[str, Any] | None:
    risk = projection(kartei, "risk")
    if risk is None:
        return None
    t = risk.risks
    query = sa.select(t.c.at_risk, t.c.score, t.c.reason, t.c.reason_values)
    row = (await conn.execute(query.where(t.c.contact_id == contact_id))).first()
    if row is None or not row.at_risk:
        return None
    found = dict(row._mapping)
    found["remarks"] = remarks_of(orjson.loads(found.pop("reason_values")))
    return found


async def search(kartei: Hub, text: str) -> dict[str, list[Any]]:
    """Contacts by name, number, address; emails, faxes and notes by subject and text."""
    found: dict[str, list[Any]] = {"contacts": [], "entries": []}
    async with kartei.store.db.read() as conn:
        directory = projection(kartei, "contacts")
        if directory is not None:
            found["contacts"] = await directory.search(conn, text, 20)
        timeline = projection(kartei, "timeline")
        if timeline is not None:
            found["entries"] = await timeline.search(conn, text, 20)
    return found


async def call_log(
    kartei: Hub,
    since: datetime,
    until: datetime | None = None,
    *,
    owed: bool = False,
    limit: int = MAX_CALLS,
) -> list[dict[str, Any]]:
    """Calls that rang from `since` (until `until`), newest first, each with `missed` and
    the `contact` its number belongs to now; `owed`: only missed calls nobody has marked
    seen or spoken to since (withheld numbers cannot be called back and are left out)."""
    calls = projection(kartei, "calls")
    if calls is None:
        return []
    c = calls.calls.c
    # When the phone system says the call rang, not when Kartei recorded it: a call that
    # reached Kartei late (after an outage, or the demo's year fed this morning) belongs
    # to the day it rang.
    when = sa.func.coalesce(c.started_at, c.answered_at, c.ended_at, c.recorded_at)
    query = sa.select(calls.calls).where(when >= since.astimezone(UTC))
    if until is not None:
        query = query.where(when < until.astimezone(UTC))
    if owed:
        query = query.where(
            c.direction == "inbound",
            c.cause == "missed",
            c.seen_at.is_(None),
            c.number.in_(sa.select(calls.missed.c.number)),  # cleared once someone spoke
        )
    query = query.order_by(when.desc()).limit(limit)
    async with kartei.store.db.read() as conn:
        rows = [dict(r._mapping) for r in await conn.execute(query)]
        contacts = await _callers(conn, kartei, {r["number"] or r["number_raw"] for r in rows})
    for row in rows:
        row["missed"] = row["direction"] == "inbound" and row["cause"] == "missed"
        row["contact"] = contacts.get(row["number"] or row["number_raw"])
    return rows


async def _callers(conn: AsyncConnection, kartei: Hub, numbers: set[str]) -> dict[str, Any]:
    """The contact each number belongs to (numbers nobody has are left out)."""
    identity = projection(kartei, "identity")
    found: dict[str, Any] = {}
    if identity is None:
        return found
    for number in numbers:
        if number and (match := await identity.lookup_number(conn, number)) is not None:
            found[number] = match
    return found


async def dashboard(kartei: Hub, username: str, now: datetime) -> dict[str, Any]:
    """Today's calls, missed calls still owed a call back, tasks, risks and labels per
    week; `now` in the firm's time zone (its midnight starts today)."""
    board: dict[str, Any] = {"calls": [], "my_tasks": [], "team_tasks": 0, "risks": []}
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = midnight - timedelta(days=MISSED_DAYS - 1)  # wall-clock days in the firm's zone
    board["missed"] = await call_log(kartei, earlier, midnight, owed=True, limit=50)
    board["missed_days"] = MISSED_DAYS
    async with kartei.store.db.read() as conn:
        timeline = projection(kartei, "timeline")
        if timeline is not None:
            calls = await timeline.recent(conn, "call", midnight, 100)
            board["calls"] = sorted(calls, key=lambda e: e.data.get("status") != "missed")
            weeks = await labelled_per_week(conn, timeline, now, 8)
            board["weeks"] = weeks
        tasks = projection(kartei, "tasks")
        if tasks is not None:
            board["my_tasks"] = await tasks.unfinished(conn, assignee=username, now=now, limit=20)
            board["team_tasks"] = len(await tasks.unfinished(conn, now=now, limit=500))
        risk = projection(kartei, "risk")
        directory = projection(kartei, "contacts")
        if risk is not None:
            rows = [r for r in await risk.ranked(conn, 20) if r["at_risk"]]
            for row in rows:
                contact = await directory.get(conn, row["contact_id"]) if directory else None
                row["name"] = contact.display_name if contact else row["contact_id"]
            board["risks"] = rows
    callers = {e.contact_id for e in board["calls"] if e.contact_id}
    board["names"] = await contact_names(kartei, callers)
    board["health"] = kartei.health.snapshot()["components"]
    return board


async def labelled_per_week(
    conn: AsyncConnection, timeline: Any, now: datetime, weeks: int
) -> list[dict[str, Any]]:
    """Complaints and praise per calendar week (in `now`'s time zone), oldest first."""
    t = timeline.entries
    monday = _monday(now.date())
    start = datetime.combine(monday - timedelta(weeks=weeks - 1), time(), now.tzinfo)
    rows = await conn.execute(
        sa.select(t.c.at, t.c.label).where(t.c.at >= start, t.c.label.in_(["complaint", "praise"]))
    )
    counts: Counter[tuple[int, str]] = Counter()
    for row in rows:
        day = row.at.astimezone(now.tzinfo).date()
        counts[((monday - _monday(day)).days // 7, row.label)] += 1
    return [
        {
            "week": (monday - timedelta(weeks=back)).isocalendar().week,
            "complaint": counts[(back, "complaint")],
            "praise": counts[(back, "praise")],
        }
        for back in range(weeks - 1, -1, -1)
    ]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
