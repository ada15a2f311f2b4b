"""The Asterisk Manager Interface, parsed purely: framing, and call events -> signals.

AMI speaks ``Key: Value`` lines (CRLF) in messages ended by an empty line, after a
greeting line ``Asterisk Call Manager/<version>``. A call is the set of channels sharing a
``Linkedid``; the first channel (``Uniqueid == Linkedid``) is the caller's side:

- Newchannel (first channel): who calls (CallerIDNum/CallerIDName) and what (Exten).
- DialBegin: an extension starts ringing (DestCallerIDNum) -> ring, or placed outbound.
- DialEnd ``DialStatus: ANSWER`` / BridgeEnter / Newstate ``Up`` -> answered; BUSY etc.
  are kept as the cause should nobody answer.
- Newexten ``Application: VoiceMail`` -> the call went to voicemail.
- Hangup of the first channel -> ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.telephony.fritzbox_parsing import LineFramer, Overlong
from adapters.telephony.model import Signal

Message = dict[str, str]  # keys in lower case

# An AMI message of a call event has ~20 lines; more than this is not one.
MAX_MESSAGE_LINES = 200
# Calls whose Hangup never came are forgotten, oldest first, past this many.
MAX_TRACKED_CALLS = 10_000
_DIAL_CAUSES = {"BUSY": "busy", "NOANSWER": "missed", "CANCEL": "missed", "CONGESTION": "unknown"}
_HANGUP_CAUSES = {"17": "busy", "21": "rejected"}  # Q.850 user busy, call rejected


class AmiProtocolError(ValueError):
    """The peer does not speak AMI (no greeting, a runaway message)."""


class AmiFramer:
    """Bytes -> AMI messages; the greeting line is returned as ``{"greeting": ...}``."""

    def __init__(self) -> None:
        self._lines = LineFramer(max_line=8192)
        self._current: list[str] = []
        self._greeted = False

    def feed(self, data: bytes) -> list[Message]:
        out: list[Message] = []
        for line in self._lines.feed(data):
            if isinstance(line, Overlong):
                raise AmiProtocolError(f"over-long line of {line.size} bytes")
            text = line.decode("utf-8", "replace")
            if not self._greeted:
                if not text.startswith("Asterisk Call Manager/"):
                    raise AmiProtocolError(f"not an AMI greeting: {text[:60]!r}")
                self._greeted = True
                out.append({"greeting": text})
            elif text:
                self._current.append(text)
                if len(self._current) > MAX_MESSAGE_LINES:
                    raise AmiProtocolError("message of over 200 lines")
            elif self._current:
                out.append(_message(self._current))
                self._current = []
        return out


def _message(lines: list[str]) -> Message:
    message: Message = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            message.setdefault(key.strip().lower(), value.strip())
    return message


def action(name: str, action_id: str, **fields: str) -> bytes:
    """One AMI action; refuses values that would smuggle in lines of their own."""
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"AMI field {key} contains a line break")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass(slots=True)
class _Call:
    number: str
    name: str
    exten: str
    inbound: bool
    dialled: bool = False
    answered: bool = False
    cause: str | None = None


class AmiCallMapper:
    """Turns AMI call events into signals, one call per Linkedid."""

    def __init__(
        self, extension_max_digits: int = 5, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.extension_max_digits = extension_max_digits
        self.clock = clock or (lambda: datetime.now(UTC))
        self._calls: dict[str, _Call] = {}

    def feed(self, m: Message) -> list[Signal]:
        linked = m.get("linkedid") or m.get("uniqueid", "")
        if not linked:
            return []
        at = _timestamp(m) or self.clock()
        event = m.get("event", "")
        first = m.get("uniqueid") == linked
        if event == "Newchannel" and first:
            number = _cid(m.get("calleridnum", ""))
            if len(self._calls) >= MAX_TRACKED_CALLS:
                del self._calls[next(iter(self._calls))]
            self._calls[linked] = _Call(
                number,
                _cid(m.get("calleridname", "")),
                m.get("exten", ""),
                inbound=not self._is_extension(number),
            )
            return []
        call = self._calls.get(linked)
        if call is None:
            return []
        if event == "DialBegin" and not call.dialled:
            call.dialled = True
            return [self._start(linked, call, m, at)]
        if event == "DialEnd":
            status = m.get("dialstatus", "")
            if status == "ANSWER":
                return self._answered(linked, call, m.get("destcalleridnum"), at)
            call.cause = call.cause or _DIAL_CAUSES.get(status)
        if event == "BridgeEnter" and not first:
            return self._answered(linked, call, _cid(m.get("calleridnum", "")) or None, at)
        if event == "Newstate" and not first and m.get("channelstate") == "6":
            return self._answered(linked, call, _cid(m.get("calleridnum", "")) or None, at)
        if event == "Newexten" and first and m.get("application", "").lower() == "voicemail":
            call.cause = "voicemail"
        if event == "Hangup" and first:
            del self._calls[linked]
            cause = None if call.answered else call.cause or _HANGUP_CAUSES.get(m.get("cause", ""))
            return [Signal("ended", linked, at, number_raw=call.number, cause=cause)]
        return []

    def _start(self, linked: str, call: _Call, m: Message, at: datetime) -> Signal:
        extension = _cid(m.get("destcalleridnum", "")) or m.get("dialstring") or None
        if call.inbound:
            return Signal(
                "ring",
                linked,
                at,
                number_raw=call.number,
                line=call.exten,
                extension=extension,
                caller_name=call.name,
            )
        dialled = call.exten or m.get("dialstring", "").rpartition("/")[2].partition("@")[0]
        return Signal("placed", linked, at, number_raw=dialled, extension=call.number)

    def _answered(
        self, linked: str, call: _Call, extension: str | None, at: datetime
    ) -> list[Signal]:
        if call.answered:
            return []
        call.answered = True
        return [Signal("answered", linked, at, extension=extension, answered_by=extension)]

    def _is_extension(self, number: str) -> bool:
        return number.isdigit() and len(number) <= self.extension_max_digits


def _cid(value: str) -> str:
    """A caller id field; Asterisk writes "<unknown>" for none."""
    return "" if value in ("<unknown>", "unknown", "anonymous") else value[:200]


def _timestamp(m: Message) -> datetime | None:
    """``Timestamp: 1409169929.412068`` (manager.conf timestampevents = yes)."""
    try:
        return datetime.fromtimestamp(float(m["timestamp"]), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None
