"""Calls from the firm's phone systems (stream ``call-<source>-<call_id>``).

The outside party's number and name are personal data: they are sealed with the key of
``phone:<E.164>`` (or ``phone:<raw>`` when the number cannot be normalized), so erasing a
person erases the calls' numbers too (invariant 8). Staff extensions are not personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hub.events.base import Event

CAUSES = ("answered", "missed", "busy", "rejected", "voicemail", "unknown")
DIRECTIONS = ("inbound", "outbound")


def phone_subject(e164: str | None, raw: str) -> str | None:
    """The data subject whose key seals a caller's number: ``phone:<number>``."""
    if e164:
        return f"phone:{e164}"
    return f"phone:{raw}" if raw else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRinging(Event):
    """An inbound call is ringing at one of the firm's lines; nobody has answered yet."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"caller", "caller_raw", "caller_name"})

    call_id: str
    source: str
    line: str = ""  # the firm's number that was called, as the PBX sent it
    extension: str | None = None  # the extension (or group) it rings at, when known
    trunk: str | None = None  # the PBX's line name: SIP0, ISDN, POTS, a trunk name
    at: datetime | None = None  # when the PBX saw it ring
    caller: str | None = None  # E.164; None when withheld or not a phone number
    caller_raw: str = ""  # exactly as the PBX sent it ("" when withheld)
    caller_name: str = ""  # the name the PBX or network sent, if any (untrusted text)

    def data_subject(self) -> str | None:
        return phone_subject(self.caller, self.caller_raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallPlaced(Event):
    """Someone at the firm dialled out."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"callee", "callee_raw"})

    call_id: str
    source: str
    line: str = ""  # the firm's own number used for the call
    extension: str | None = None
    trunk: str | None = None
    at: datetime | None = None
    callee: str | None = None  # E.164 of the dialled number
    callee_raw: str = ""

    def data_subject(self) -> str | None:
        return phone_subject(self.callee, self.callee_raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(Event):
    """A call was picked up (inbound: by which extension or user; outbound: by the far end)."""

    call_id: str
    source: str
    direction: str = "inbound"
    extension: str | None = None
    answered_by: str | None = None  # user name or number the PBX reports, if any
    at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Event):
    """A call is over: answered and hung up, missed, busy, rejected, sent to voicemail."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"number", "number_raw"})

    call_id: str
    source: str
    direction: str = "inbound"
    cause: str = "unknown"  # one of CAUSES
    duration_seconds: int | None = None  # talk time; 0 for calls never answered
    line: str = ""
    extension: str | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    at: datetime | None = None
    number: str | None = None  # the outside party in E.164 (caller inbound, callee outbound)
    number_raw: str = ""

    @property
    def missed(self) -> bool:
        """An inbound call nobody answered."""
        return self.direction == "inbound" and self.cause == "missed"

    def data_subject(self) -> str | None:
        return phone_subject(self.number, self.number_raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedCallSeen(Event):
    """A staff member saw a missed call on the call list (on the call's stream)."""

    call_id: str
    source: str
    by: str | None = None


EVENTS: dict[str, type[Event]] = {
    "CallRinging": CallRinging,
    "MissedCallSeen": MissedCallSeen,
    "CallPlaced": CallPlaced,
    "CallAnswered": CallAnswered,
    "CallEnded": CallEnded,
}
