"""The daily digest to each staff member: new risks, overdue tasks and missed calls.

Run by APScheduler at the configured time. Each digest is an alert keyed by the day, so a
restart (or a second run the same day) does not send it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hub.events.classification import CustomerAtRisk
from hub.store import EventStore
from policies.alerts import Deliverer
from projections.risk_reason import reason_in

TITLES = {
    "de": (
        "Kartei: Tagesübersicht {day}",
        "Neu gefährdete Kunden",
        "Überfällige Aufgaben",
        "Verpasste Anrufe",
    ),
    "en": (
        "Kartei: daily digest {day}",
        "Customers newly at risk",
        "Overdue tasks",
        "Missed calls",
    ),
}


class Digest:
    """Composes and sends the daily digest."""

    def __init__(
        self,
        store: EventStore,
        deliverer: Deliverer,
        staff: Sequence[Any],
        *,
        tasks: Any = None,
        calls: Any = None,
        language: str = "de",
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.staff = list(staff)
        self.tasks = tasks
        self.calls = calls
        self.titles = TITLES.get(language, TITLES["en"])
        self.language = language if language in TITLES else "en"

    async def send(self, now: datetime | None = None) -> int:
        """Sends today's digest to every staff member with something in it."""
        now = now or datetime.now(UTC)
        since = now - timedelta(days=1)
        risks = await self._new_risks(since)
        async with self.store.db.read() as conn:
            overdue = await self._overdue(conn, now)
            missed = await self._missed(conn, since)
        day = now.date().isoformat()
        sent = 0
        for member in self.staff:
            mine = [t for t in overdue if t.assignee in (member.name, None)]
            text = self._compose(risks, mine, missed)
            if text:
                subject = self.titles[0].format(day=day)
                sent += await self.deliverer.deliver(f"digest-{day}", [member], subject, text)
        return sent

    def _compose(self, risks: list[CustomerAtRisk], tasks: list[Any], missed: list[Any]) -> str:
        parts = []
        if risks:
            said = [reason_in(self.language, r.reason_values, r.reason) for r in risks]
            lines = [f"- {r.contact_id}: {why}" for r, why in zip(risks, said, strict=True)]
            parts.append("\n".join([self.titles[1], *lines]))
        if tasks:
            lines = [f"- {t.title} ({t.contact_id or '-'}, {t.due:%d.%m.})" for t in tasks]
            parts.append("\n".join([self.titles[2], *lines]))
        if missed:
            lines = [f"- {m.number} ({m.missed}x)" for m in missed]
            parts.append("\n".join([self.titles[3], *lines]))
        return "\n\n".join(parts)

    async def _new_risks(self, since: datetime) -> list[CustomerAtRisk]:
        found, after = [], 0
        while batch := await self.store.read_all(after, 1000, types=("CustomerAtRisk",)):
            found += [r.event for r in batch if r.recorded_at >= since]
            after = batch[-1].position
        return [e for e in found if isinstance(e, CustomerAtRisk)]

    async def _overdue(self, conn: Any, now: datetime) -> list[Any]:
        if self.tasks is None:
            return []
        open_tasks = await self.tasks.unfinished(conn, now=now)
        return [t for t in open_tasks if t.overdue(now)]

    async def _missed(self, conn: Any, since: datetime) -> list[Any]:
        table = getattr(self.calls, "missed", None)
        if table is None:
            return []
        query = sa.select(table).where(table.c.last_missed_at >= since).limit(50)
        return list((await conn.execute(query)).all())
