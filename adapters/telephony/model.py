"""One call model for every phone system: signals in, call events out.

Drivers translate their protocol into `Signal`s; a `CallTracker` per source turns them into
events with idempotency keys, tolerating what phone systems really do: phases out of
order, repeated, or missing (a DISCONNECT without CONNECT is a missed call; a call left
ringing when the connection dropped is closed as "unknown" after a timeout).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from hub.events import Event
from hub.events.calls import CAUSES, CallAnswered, CallEnded, CallPlaced, CallRinging

Phase = Literal["ring", "placed", "answered", "ended"]

# How many finished calls a tracker remembers, to recognise late or repeated phases.
REMEMBERED_CALLS = 10_000


@dataclass(frozen=True, slots=True)
class Signal:
    """One thing a phone system reported about a call, in driver-neutral form."""

    phase: Phase
    call_id: str  # the upstream id (FRITZ!Box connection id, sipgate callId, Linkedid)
    at: datetime
    number_raw: str = ""  # the outside party, as sent ("" when withheld)
    line: str = ""  # the firm's own number
    extension: str | None = None
    trunk: str | None = None
    caller_name: str = ""
    answered_by: str | None = None
    duration: int | None = None
    cause: str | None = None  # an explicit cause from the PBX (busy, rejected, voicemail)
    direction: str | None = None  # when a later phase says it (for calls not seen starting)


@dataclass(frozen=True, slots=True)
class Captured:
    """An event ready to record: its stream and its idempotency key."""

    stream: str
    event: Event
    key: str


@dataclass(slots=True)
class _Call:
    key: str
    direction: str
    started_at: datetime
    touched: float
    number: str | None = None
    number_raw: str = ""
    line: str = ""
    extension: str | None = None
    answered_at: datetime | None = None
    phases: set[str] | None = None


class CallTracker:
    """The per-call state machine of one source (one box, one PBX, one webhook account).

    With `ids_reused` (FRITZ!Box connection ids come round again), a call's id is the
    upstream id plus the time it started, so each call gets its own stream and keys.
    """

    def __init__(
        self,
        source: str,
        normalize: Callable[[str], str | None],
        *,
        ids_reused: bool = False,
        ring_timeout: float = 300.0,
        max_call_seconds: float = 12 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.normalize = normalize
        self.ids_reused = ids_reused
        self.ring_timeout = ring_timeout
        self.max_call_seconds = max_call_seconds
        self.clock = clock
        self._open: dict[str, _Call] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()

    @property
    def open_calls(self) -> int:
        return len(self._open)

    def feed(self, signal: Signal) -> list[Captured]:
        """The events one signal adds (none for a repeat)."""
        if signal.phase in ("ring", "placed"):
            return self._start(signal)
        if signal.phase == "answered":
            return self._answer(signal)
        return self._end(signal)

    def expire(self) -> list[Captured]:
        """Closes calls left ringing past the timeout (or running absurdly long) as unknown."""
        now = self.clock()
        out: list[Captured] = []
        for upstream, call in list(self._open.items()):
            limit = self.max_call_seconds if call.answered_at else self.ring_timeout
            if now - call.touched >= limit:
                del self._open[upstream]
                out.append(self._ended_event(call, "unknown", None, None))
        return out

    # -- phases -------------------------------------------------------------------

    def _start(self, s: Signal) -> list[Captured]:
        key = self._call_key(s.call_id, s.at)
        out: list[Captured] = []
        current = self._open.get(s.call_id)
        if current is not None and current.key != key:
            # A reused id started a new call: the old one never ended as far as we saw.
            del self._open[s.call_id]
            out.append(self._ended_event(current, "unknown", None, None))
            current = None
        if current is None:
            # Also for a call already ended (a replay): later phases then get its keys.
            current = _Call(key, "outbound" if s.phase == "placed" else "inbound", s.at, 0.0)
            self._open[s.call_id] = current
        if current.phases and s.phase in current.phases:
            return out
        self._fill(current, s)
        out.append(self._captured(current, s.phase, self._start_event(current, s)))
        return out

    def _answer(self, s: Signal) -> list[Captured]:
        call = self._open.get(s.call_id) or self._late_or_missing(s)
        if call.phases and "answered" in call.phases:
            return []
        self._fill(call, s)
        call.answered_at = call.answered_at or s.at
        event = CallAnswered(
            call_id=call.key,
            source=self.source,
            direction=call.direction,
            extension=s.extension or call.extension,
            answered_by=s.answered_by,
            at=s.at,
        )
        return [self._captured(call, "answered", event)]

    def _end(self, s: Signal) -> list[Captured]:
        call = self._open.pop(s.call_id, None)
        if call is None:
            call = self._late_or_missing(s)
            if call.key in self._ended:
                return []
        self._fill(call, s)
        cause = s.cause if s.cause in CAUSES else None
        if cause is None:
            answered = call.answered_at is not None or bool(s.duration)
            cause = "answered" if answered else "missed"
        return [self._ended_event(call, cause, s.duration, s.at)]

    def _late_or_missing(self, s: Signal) -> _Call:
        """A call we did not see start: missing phases, or phases arriving late."""
        key = self._call_key(s.call_id, s.at) if self.ids_reused else s.call_id
        call = _Call(key, s.direction or "inbound", s.at, self.clock())
        if key not in self._ended and s.phase == "answered":
            self._open[s.call_id] = call
        return call

    # -- events -------------------------------------------------------------------

    def _start_event(self, call: _Call, s: Signal) -> Event:
        if s.phase == "placed":
            return CallPlaced(
                call_id=call.key,
                source=self.source,
                line=s.line,
                extension=s.extension,
                trunk=s.trunk,
                at=s.at,
                callee=call.number,
                callee_raw=s.number_raw,
            )
        return CallRinging(
            call_id=call.key,
            source=self.source,
            line=s.line,
            extension=s.extension,
            trunk=s.trunk,
            at=s.at,
            caller=call.number,
            caller_raw=s.number_raw,
            caller_name=s.caller_name,
        )

    def _ended_event(
        self, call: _Call, cause: str, duration: int | None, at: datetime | None
    ) -> Captured:
        self._remember(call.key)
        if duration is None and call.answered_at is not None and at is not None:
            duration = max(0, round((at - call.answered_at).total_seconds()))
        event = CallEnded(
            call_id=call.key,
            source=self.source,
            direction=call.direction,
            cause=cause,
            duration_seconds=duration if call.answered_at or duration else 0,
            line=call.line,
            extension=call.extension,
            started_at=call.started_at,
            answered_at=call.answered_at,
            at=at,
            number=call.number,
            number_raw=call.number_raw,
        )
        return self._captured(call, "ended", event)

    def _captured(self, call: _Call, phase: str, event: Event) -> Captured:
        call.phases = (call.phases or set()) | {phase}
        call.touched = self.clock()
        stream = f"call-{self.source}-{call.key}"
        return Captured(stream, event, f"{self.source}:{call.key}:{phase}")

    def _fill(self, call: _Call, s: Signal) -> None:
        if s.number_raw and not call.number_raw:
            call.number_raw = s.number_raw
            call.number = self.normalize(s.number_raw)
        call.line = call.line or s.line
        call.extension = call.extension or s.extension

    def _call_key(self, call_id: str, at: datetime) -> str:
        return f"{call_id}-{at:%Y%m%d%H%M%S}" if self.ids_reused else call_id

    def _remember(self, key: str) -> None:
        self._ended[key] = None
        while len(self._ended) > REMEMBERED_CALLS:
            self._ended.popitem(last=False)
