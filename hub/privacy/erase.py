"""Erasing a person: keys destroyed, read models purged, documents removed, pages wiped.

The order matters. One transaction appends ContactErased, deletes the keys and purges the
read models (each projection's `forget`). After the commit the archived documents only
they used are deleted, the decoded events this process holds in memory are dropped, the
read models are waited for (a batch decoded before the commit may have written rows after
it) and purged once more, and the database's free pages are cleaned (free_pages.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.archive import Archive
from hub.events import Metadata, NewEvent
from hub.events.privacy import ContactErased
from hub.privacy.dossier import ERASED_ALREADY, HELD, Dossier, PrivacyError, dossier
from hub.privacy.free_pages import free_pages
from hub.privacy.holds import Hold, holds_on
from hub.settings import RetentionHold
from hub.store import EventStore

log = logging.getLogger(__name__)


class Forgetting(Protocol):
    """A read model that can purge one person's rows (projections with a `forget`)."""

    @property
    def tables(self) -> sa.MetaData: ...

    async def forget(self, conn: AsyncConnection, erased: Dossier) -> None: ...


class RetentionHoldError(PrivacyError):
    """Erasing now would break a retention duty; it needs an override with a reason.
    `holds` are the holds (the command line and the web word them in their language)."""

    def __init__(self, holds: Sequence[Hold]) -> None:
        self.holds = tuple(holds)
        said = ", ".join(f"{h.name}: {h.documents} until {h.until:%d.%m.%Y}" for h in holds)
        super().__init__(HELD, holds=said)


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    """What an erasure would do, for the confirmation."""

    dossier: Dossier
    holds: tuple[Hold, ...]

    @property
    def contact_id(self) -> str:
        return self.dossier.contact.contact_id


async def plan_erasure(
    store: EventStore, contact_id: str, holds: dict[str, RetentionHold], today: date
) -> ErasurePlan:
    found = await dossier(store, contact_id)
    if found.contact.erased:
        raise PrivacyError(ERASED_ALREADY, contact=contact_id)
    return ErasurePlan(found, tuple(holds_on(found.records, holds, today)))


async def erase(
    store: EventStore,
    archive: Archive,
    plan: ErasurePlan,
    *,
    by: str,
    reason: str,
    justification: str = "",
    forgetting: Sequence[Forgetting] = (),
    settle: Callable[[], Awaitable[None]] | None = None,
) -> ContactErased:
    """Erases the contact of `plan`; refuses while a hold applies and no justification is
    given (the justification is recorded in the event)."""
    if plan.holds and not justification.strip():
        raise RetentionHoldError(plan.holds)
    found = plan.dossier
    event = ContactErased(
        contact_id=plan.contact_id,
        by=by,
        reason=reason.strip(),
        subjects=len(found.subjects),
        documents=len(found.own_documents),
        events=len(found.records),
        overridden_holds=tuple(h.name for h in plan.holds),
        justification=justification.strip() if plan.holds else "",
    )
    meta = Metadata(source="privacy", actor=by)
    async with store.transaction() as tx:
        if store.db.is_sqlite:  # deleted cells zeroed (Debian's SQLite does it by default)
            await tx.connection.exec_driver_sql("PRAGMA secure_delete=ON")
        version = found.contact.version
        await tx.append(f"contact-{plan.contact_id}", version, [NewEvent(event, metadata=meta)])
        for subject in found.subjects:
            await store.keys.erase(tx.connection, subject)
        for model in forgetting:
            await model.forget(tx.connection, found)
    store.forget_subjects(found.subjects)
    removed = sum(archive.remove(ref) for ref in found.own_documents)
    log.info("contact %s erased by %s: %d keys, %d documents", plan.contact_id, by,
             len(found.subjects), removed)  # fmt: skip
    if settle is not None:
        await settle()
        async with store.db.write() as conn:
            for model in forgetting:
                await model.forget(conn, found)
    tables = [t.name for model in forgetting for t in model.tables.sorted_tables]
    await free_pages(store.db, ["subject_keys", *tables])
    return event


def now_day() -> date:
    return datetime.now(UTC).date()


__all__ = [
    "ErasurePlan",
    "Forgetting",
    "RetentionHoldError",
    "erase",
    "now_day",
    "plan_erasure",
]
