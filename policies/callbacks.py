"""A missed call from a known contact opens one "call back" task per caller while it is open.

Missed calls from numbers no contact has are not tasks: they are listed for follow-up by
the call log (`projections.calls.CallLog.unknown_missed`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import NewEvent, Recorded
from hub.events.calls import CallEnded
from hub.events.tasks import TaskOpened
from hub.policy import Reaction
from hub.sql import aware
from hub.store import Database

TITLES = {"de": "Rückruf", "en": "Call back"}
# When the call rang, as the task list shows it under the caller's name (the task names
# its contact). Stored in TaskOpened, whose fields are not sealed per person, so it holds
# no name or number: erasing the caller must leave nothing of them in the log (invariant 8).
REASONS = {
    "de": "Verpasster Anruf am {at:%d.%m.%Y} um {at:%H:%M} Uhr",
    "en": "Missed call on {at:%Y-%m-%d} at {at:%H:%M}",
}


class NumberIndex(Protocol):
    async def lookup_number(self, conn: AsyncConnection, raw: str) -> Any: ...


class OpenTasks(Protocol):
    async def open_task_with_key(self, conn: AsyncConnection, dedupe_key: str) -> str | None: ...

    async def get(self, conn: AsyncConnection, task_id: str) -> Any: ...


def callback_key(contact_id: str) -> str:
    """The dedupe key of a contact's open call-back task."""
    return f"callback:{contact_id}"


class CallbackPolicy:
    """Missed call from a known contact -> TaskOpened(kind="callback"), unless one is open.

    "Open" is what the task queue says, plus the tasks this policy opened that the queue
    has not applied yet (the queue runs behind the policy), so two missed calls in quick
    succession still make one task.
    """

    name = "callbacks"
    version = 1
    event_types = ("CallEnded",)

    def __init__(
        self,
        db: Database,
        index: NumberIndex,
        tasks: OpenTasks,
        language: str = "de",
        *,
        tz: tzinfo | None = None,
    ) -> None:
        self.db = db
        self.index = index
        self.tasks = tasks
        self.language = language if language in TITLES else "de"
        # The firm's (settings.kartei.timezone): the time of the call as its staff read clocks.
        self.tz = tz or ZoneInfo("Europe/Berlin")
        self._opened: dict[str, str] = {}  # dedupe key -> task id, opened by this process

    async def react(self, batch: Sequence[Recorded]) -> Sequence[Reaction]:
        reactions: list[Reaction] = []
        async with self.db.read() as conn:
            for r in batch:
                event = r.event
                if not (isinstance(event, CallEnded) and event.missed and event.number):
                    continue
                match = await self.index.lookup_number(conn, event.number)
                if match is None:
                    continue
                key = callback_key(match.contact_id)
                if await self._is_open(conn, key):
                    continue
                reactions.append(self._open_task(r, match.contact_id, key, self._reason(r)))
        return reactions

    async def _is_open(self, conn: AsyncConnection, key: str) -> bool:
        if await self.tasks.open_task_with_key(conn, key):
            return True
        mine = self._opened.get(key)
        if mine is None:
            return False
        row = await self.tasks.get(conn, mine)
        return row is None or row.status != "done"  # not applied yet counts as open

    def _reason(self, r: Recorded) -> str:
        """'Verpasster Anruf am 02.03.2026 um 10:01 Uhr': when it rang, in the firm's zone."""
        event = r.event
        assert isinstance(event, CallEnded)
        rang: datetime = event.started_at or event.at or r.recorded_at
        return REASONS[self.language].format(at=aware(rang).astimezone(self.tz))

    def _open_task(self, cause: Recorded, contact_id: str, key: str, reason: str) -> Reaction:
        # Derived from the cause, so a replay after a crash opens the same task once.
        task_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kartei:callbacks:{cause.position}"))
        self._opened[key] = task_id
        task = TaskOpened(
            task_id=task_id,
            title=TITLES[self.language],
            kind="callback",
            contact_id=contact_id,
            reason=reason,
            cause_position=cause.position,
            dedupe_key=key,
        )
        return Reaction(f"task-{task_id}", NewEvent(task, f"callbacks:{cause.position}"))
