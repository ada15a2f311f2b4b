"""The team's task queue: open, snoozed and done tasks, who has them and when they are due.

A task is due at a moment (a policy's "in two days") or on a day (the card's date field).
Every moment reads back timezone-aware on both databases (hub.sql.UtcDateTime).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.tasks import TaskAssigned, TaskCompleted, TaskOpened, TaskSnoozed
from hub.sql import UtcDateTime


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task as the queue shows it."""

    task_id: str
    title: str
    kind: str
    status: str  # open, snoozed, done
    contact_id: str | None
    assignee: str | None
    due: datetime | date | None  # a moment, or a day (a `date`, no time of day)
    snoozed_until: datetime | None
    reason: str
    opened_at: datetime
    completed_at: datetime | None
    dedupe_key: str | None

    def overdue(self, now: datetime) -> bool:
        """Whether it is past due at `now`; a due day is over at the end of that day in
        `now`'s time zone (pass it in the firm's)."""
        if isinstance(self.due, datetime):
            return self.due < now
        return self.due is not None and self.due < now.date()


class TaskQueue:
    """Read model of every task (projection "tasks")."""

    name = "tasks"
    version = 2  # 2: moments stored in UTC (SQLite kept local digits), due_day
    event_types = ("TaskOpened", "TaskAssigned", "TaskSnoozed", "TaskCompleted")
    tables = sa.MetaData()
    tasks = sa.Table(
        "tasks",
        tables,
        sa.Column("task_id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("contact_id", sa.Text, index=True),
        sa.Column("assignee", sa.Text, index=True),
        # The order of urgency: the due moment, or the start (UTC) of the due day.
        sa.Column("due", UtcDateTime),
        sa.Column("due_day", sa.Date),
        sa.Column("snoozed_until", UtcDateTime),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("completed_at", UtcDateTime),
        sa.Column("dedupe_key", sa.Text, index=True),
        sa.Column("cause_position", sa.BigInteger),
    )

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        t = self.tasks
        for r in batch:
            match r.event:
                case TaskOpened() as e:
                    await conn.execute(
                        sa.insert(t).values(
                            task_id=e.task_id,
                            title=e.title,
                            kind=e.kind,
                            status="open",
                            contact_id=e.contact_id,
                            assignee=e.assignee,
                            due=_sort_key(e),
                            due_day=e.due_day,
                            reason=e.reason,
                            opened_at=r.recorded_at,
                            dedupe_key=e.dedupe_key,
                            cause_position=e.cause_position,
                        )
                    )
                case TaskAssigned(task_id=task_id, assignee=assignee):
                    await self._update(conn, task_id, assignee=assignee)
                case TaskSnoozed(task_id=task_id, until=until):
                    await self._update(conn, task_id, status="snoozed", snoozed_until=until)
                case TaskCompleted(task_id=task_id):
                    await self._update(conn, task_id, status="done", completed_at=r.recorded_at)

    async def _update(self, conn: AsyncConnection, task_id: str, **values: Any) -> None:
        await conn.execute(
            sa.update(self.tasks).where(self.tasks.c.task_id == task_id).values(**values)
        )

    async def get(self, conn: AsyncConnection, task_id: str) -> TaskRow | None:
        row = (await conn.execute(self._select().where(self.tasks.c.task_id == task_id))).first()
        return _row(row) if row else None

    async def open_task_with_key(self, conn: AsyncConnection, dedupe_key: str) -> str | None:
        """The id of an unfinished task opened with this dedupe key, if any."""
        t = self.tasks
        query = sa.select(t.c.task_id).where(t.c.dedupe_key == dedupe_key, t.c.status != "done")
        return (await conn.execute(query.limit(1))).scalar_one_or_none()

    async def unfinished(
        self,
        conn: AsyncConnection,
        *,
        assignee: str | None = None,
        contact_id: str | None = None,
        now: datetime | None = None,
        limit: int = 200,
    ) -> list[TaskRow]:
        """Open tasks (and snoozed ones whose time has come), most urgent first."""
        t = self.tasks
        query = self._select()
        if now is None:
            query = query.where(t.c.status != "done")
        else:
            query = query.where(
                sa.or_(
                    t.c.status == "open",
                    sa.and_(t.c.status == "snoozed", t.c.snoozed_until <= now),
                )
            )
        if assignee is not None:
            query = query.where(t.c.assignee == assignee)
        if contact_id is not None:
            query = query.where(t.c.contact_id == contact_id)
        query = query.order_by(t.c.due.is_(None), t.c.due, t.c.opened_at).limit(limit)
        return [_row(row) for row in await conn.execute(query)]

    def _select(self) -> sa.Select[Any]:
        t = self.tasks
        return sa.select(
            t.c.task_id,
            t.c.title,
            t.c.kind,
            t.c.status,
            t.c.contact_id,
            t.c.assignee,
            t.c.due,
            t.c.due_day,
            t.c.snoozed_until,
            t.c.reason,
            t.c.opened_at,
            t.c.completed_at,
            t.c.dedupe_key,
        )


def _sort_key(e: TaskOpened) -> datetime | None:
    if e.due_day is not None:
        return datetime.combine(e.due_day, time(), UTC)
    return e.due


def _row(row: Any) -> TaskRow:
    values = dict(row._mapping)
    day = values.pop("due_day")
    if day is not None:
        values["due"] = day
    return TaskRow(**values)
