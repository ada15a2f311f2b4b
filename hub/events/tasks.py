"""The team's tasks: opened by hand or by a policy, assigned, snoozed, completed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hub.events.base import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskOpened(Event):
    """A task was opened (stream ``task-<task_id>``)."""

    task_id: str
    title: str
    kind: str = "manual"  # manual, callback, kind_letter, complaint, follow_up
    contact_id: str | None = None
    assignee: str | None = None
    due: datetime | None = None
    reason: str = ""
    # The event that caused it (a missed call, a complaint), for "why is this here?".
    cause_position: int | None = None
    # Open tasks of one kind per contact are unique when this is set (one call-back
    # task per caller while open, not one per attempt).
    dedupe_key: str | None = None
    # A due day without a time of day ("by 10 December", the card's date field), instead
    # of `due`: it is overdue once that day is over in the firm's time zone.
    due_day: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskAssigned(Event):
    """A task was given to a staff member."""

    task_id: str
    assignee: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSnoozed(Event):
    """A task was put off until a later time."""

    task_id: str
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskCompleted(Event):
    """A task was done (or dismissed, with a note saying why)."""

    task_id: str
    by: str | None = None
    note: str = ""


EVENTS: dict[str, type[Event]] = {
    "TaskOpened": TaskOpened,
    "TaskAssigned": TaskAssigned,
    "TaskSnoozed": TaskSnoozed,
    "TaskCompleted": TaskCompleted,
}
