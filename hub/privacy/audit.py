"""The audit trail: who viewed or exported which card, who erased whom, admin actions.

Recorded as events (hub/events/privacy.py) on one stream per day, ``audit-<YYYY-MM-DD>``.
A card view is recorded at most once per user, contact and `minutes` (its idempotency
key names the time slot), so a busy office adds a few hundred small events a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from hub.events import Event, Metadata, NewEvent, Recorded
from hub.events.privacy import (
    AdminActionRecorded,
    CardViewed,
)
from hub.store import ANY, Database, EventStore
from hub.store.schema import events

# What an administrator's action was, by its catalogue name (hub/web/i18n.py): /audit and
# `kartei privacy audit` say it alike.
ADMIN_ACTION_TEXT = {
    "archive.list": "Archive list viewed",
    "archive.search": "Archive searched",
    "archive.view": "Archived item viewed",
    "archive.download": "Archived file downloaded",
    "archive.sign": "Tree head signed",
    "archive.export": "Archive exported",
    "user.add": "User added",
    "user.passwd": "Password changed",
    "user.token": "API token created",
}

AUDIT_TYPES = (
    "CardViewed",
    "ContactsSearched",
    "DataExported",
    "ContactErased",
    "AdminActionRecorded",
)


def audit_stream(moment: datetime | None = None) -> str:
    return f"audit-{(moment or datetime.now(UTC)):%Y-%m-%d}"


async def record(
    store: EventStore, event: Event, *, key: str | None = None, durable: bool = True
) -> None:
    """Appends one audit event (nothing when `key` was recorded already)."""
    actor = getattr(event, "by", None)
    meta = Metadata(source="audit", actor=actor)
    await store.append(audit_stream(), ANY, [NewEvent(event, key, meta)], durable=durable)


def cli_actor() -> str:
    """Who runs a command: ``cli:<login name>``."""
    with contextlib.suppress(OSError, KeyError):
        return f"cli:{getpass.getuser()}"
    return "cli"


async def record_admin_action(
    db: Database, action: str, target: str, detail: str = "", by: str | None = None
) -> None:
    """An admin action of a command that holds only the database (user accounts)."""
    await asyncio.to_thread(db.migrate)
    event = AdminActionRecorded(action=action, by=by or cli_actor(), target=target, detail=detail)
    await record(EventStore(db), event)


async def record_view(store: EventStore, by: str, contact_id: str, minutes: int) -> None:
    """A card view, once per user, contact and time slot of `minutes`."""
    slot = int(time.time() // (minutes * 60))
    key = f"card-viewed:{by}:{contact_id}:{minutes}:{slot}"
    await record(store, CardViewed(contact_id=contact_id, by=by), key=key, durable=False)


class CardViews:
    """Card views of one process: each user, contact and time slot reaches the store once
    (a repeat would cost a card page the queries of a refused append); another process's
    repeat is refused by the idempotency key."""

    def __init__(self, store: EventStore, minutes: int) -> None:
        self.store = store
        self.minutes = minutes
        self._slot = -1
        self._seen: set[tuple[str, str]] = set()

    async def viewed(self, by: str, contact_id: str) -> None:
        slot = int(time.time() // (self.minutes * 60))
        if slot != self._slot:
            self._slot, self._seen = slot, set()
        if (by, contact_id) in self._seen:
            return
        await record_view(self.store, by, contact_id, self.minutes)
        self._seen.add((by, contact_id))


async def audit_trail(store: EventStore, limit: int = 200, offset: int = 0) -> list[Recorded]:
    """The newest audit events first."""
    query = (
        sa.select(events.c.position)
        .where(events.c.type.in_(AUDIT_TYPES))
        .order_by(events.c.position.desc())
        .limit(limit)
        .offset(offset)
    )
    async with store.db.read() as conn:
        positions = [int(p) for (p,) in await conn.execute(query)]
    return list(reversed(await store.read_positions(positions)))


async def erased_among(store: EventStore, contact_ids: set[str]) -> set[str]:
    """Those of `contact_ids` that were erased (the audit names them without a name)."""
    streams = sorted(f"contact-{i}" for i in contact_ids)
    erased: set[str] = set()
    async with store.db.read() as conn:
        for start in range(0, len(streams), 500):  # SQLite's limit on bound values
            chunk = streams[start : start + 500]
            query = sa.select(events.c.stream).where(
                events.c.type == "ContactErased", events.c.stream.in_(chunk)
            )
            erased.update(str(s).removeprefix("contact-") for (s,) in await conn.execute(query))
    return erased


class _ReadModel(Protocol):
    @property
    def projection(self) -> Any: ...


class _Kartei(Protocol):
    """What the name lookup needs of a Kartei (the web's port or the command line's)."""

    @property
    def store(self) -> EventStore: ...

    @property
    def projections(self) -> Mapping[str, _ReadModel]: ...


async def audit_names(kartei: _Kartei, ids: set[str]) -> tuple[dict[str, str], set[str]]:
    """The current name of each contact the trail names that still exists, and those
    erased: the audit shows who was looked at, but never brings back an erased name
    (/audit and `kartei privacy audit`)."""
    erased = await erased_among(kartei.store, ids)
    runner = kartei.projections.get("contacts")
    names: dict[str, str] = {}
    if runner is None:
        return names, erased
    table, wanted = runner.projection.contacts, sorted(ids - erased)
    async with kartei.store.db.read() as conn:
        for start in range(0, len(wanted), 500):  # SQLite's limit on bound values
            chunk = wanted[start : start + 500]
            query = sa.select(table.c.contact_id, table.c.display_name)
            rows = await conn.execute(query.where(table.c.contact_id.in_(chunk)))
            names.update({i: name or i for i, name in rows})
    return names, erased


def contact_ids(trail: list[Recorded]) -> set[str]:
    """Every contact an audit entry names."""
    ids: set[str] = set()
    for r in trail:
        ids.update(getattr(r.event, "found", ()))
        if contact_id := getattr(r.event, "contact_id", None):
            ids.add(contact_id)
    return ids
