"""What the demo's script is made of: mail and faxes, calls, today's notes and tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hub.demo.persons import Person


@dataclass(frozen=True, slots=True)
class Mail:
    """An email in or out, as the firm's mail server journals it."""

    at: datetime
    sender: str
    sender_name: str
    to: str
    to_name: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None = None
    mood: str = ""  # what the classifier should read in it: complaint, praise, neutral


@dataclass(frozen=True, slots=True)
class Fax:
    """A fax the FRITZ!Box received and mailed to the fax address."""

    at: datetime
    number: str  # the sender's number as the box writes it
    title: str
    text: str
    message_id: str
    mood: str = "neutral"


@dataclass(frozen=True, slots=True)
class Call:
    """A call the FRITZ!Box call monitor reports (inbound rings, outbound dials)."""

    at: datetime
    number: str  # as the box sends it ("" when withheld)
    inbound: bool = True
    answered: bool = True
    seconds: int = 0
    extension: str = "11"


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A call today on the firm's sipgate mobile line, pushed as webhooks as it happens."""

    call_id: str
    number: str  # E.164 digits without "+", as sipgate sends them
    answered: bool
    user: str
    inbound: bool = True


@dataclass(frozen=True, slots=True)
class Note:
    """A note staff type on a card today (about the contact's newest call)."""

    contact_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Task:
    """A task staff open on a card today, with a due date `due_days` from today."""

    contact_id: str | None
    title: str
    due_days: int
    assignee: str | None


@dataclass
class Year:
    """Everything the demo feeds, each channel oldest first."""

    mails: list[Mail | Fax] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    live: list[LiveCall] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    at_risk: Person | None = None
    missed_yesterday: list[Person] = field(default_factory=list)
