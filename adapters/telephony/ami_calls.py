"""Asterisk call events -> signals, with the direction read from the PBX's own data.

A call is the set of channels sharing a ``Linkedid``; the first channel (``Uniqueid ==
Linkedid``) is the side that started it. Where it came from decides the direction:

- The first channel is a trunk (its endpoint is one of the PBX's provider trunks, or it
  entered the dialplan in an inbound context such as ``from-trunk``): an inbound call,
  ringing when it dials a phone (DialBegin: DestChannel, DestCallerIDNum).
- The first channel is a phone (or a Local channel of a click-to-dial Originate): an
  outbound call once it dials a trunk (DialBegin: DestChannel on a trunk endpoint or in an
  inbound context, or a DialString ``number@trunk`` / ``trunk/number``); a call that only
  ever dials phones is internal and recorded not at all.

Asterisk before 12 sends no Linkedid on these events and ``Dial`` with ``SubEvent:
Begin/End`` instead of DialBegin/DialEnd; channels are then joined into calls by Dial
(``UniqueID`` -> ``DestUniqueID``) and LocalBridge (``Uniqueid1`` -> ``Uniqueid2``).
Answered: DialEnd ``ANSWER``, or a phone's channel going Up / entering a bridge. The cause
of an unanswered call: the dial status (BUSY, NOANSWER), VoiceMail, the hangup cause.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from adapters.telephony.ami_parsing import Message
from adapters.telephony.model import Signal

# Contexts calls from outside enter the dialplan in, as common setups name them (FreePBX
# and Issabel: from-trunk, from-pstn; Asterisk's sample dialplans: from-external,
# incoming). A PBX with its own names lists them in `inbound_contexts`.
INBOUND_CONTEXTS = (
    "from-trunk",
    "from-pstn",
    "from-external",
    "from-sip-external",
    "from-did-direct",
    "incoming",
    "inbound",
)
# Calls and channels whose Hangup never came are forgotten, oldest first, past this many.
MAX_TRACKED_CALLS = 10_000
_DIAL_CAUSES = {"BUSY": "busy", "NOANSWER": "missed", "CANCEL": "missed", "CONGESTION": "unknown"}
_HANGUP_CAUSES = {"17": "busy", "21": "rejected"}  # Q.850 user busy, call rejected
_OLD_DIAL = {"begin": "DialBegin", "end": "DialEnd"}  # Asterisk < 12: Dial + SubEvent
T = TypeVar("T")
_NUMBER = re.compile(r"^\+?[0-9*#]{3,32}$")


@dataclass(frozen=True, slots=True)
class PbxLayout:
    """What tells one PBX's trunks from its phones: trunk endpoints and inbound contexts."""

    trunks: frozenset[str] = frozenset()
    inbound_contexts: frozenset[str] = frozenset(INBOUND_CONTEXTS)

    @classmethod
    def of(cls, trunks: Iterable[str] = (), inbound_contexts: Iterable[str] = ()) -> PbxLayout:
        contexts = frozenset(inbound_contexts) or frozenset(INBOUND_CONTEXTS)
        return cls(frozenset(trunks), contexts)

    def is_trunk(self, channel: str, context: str) -> bool:
        """Whether a channel is the provider's side (by endpoint, or by its context)."""
        endpoint = endpoint_of(channel)
        if endpoint is None:  # a Local channel is the dialplan's, never a trunk
            return False
        return endpoint in self.trunks or context in self.inbound_contexts

    def number_dialled_out(self, m: Message) -> str | None:
        """The outside number a DialBegin sends to a trunk; None when it dials a phone."""
        dest = _dest_channel(m)
        if dest and endpoint_of(dest) is None:
            return None  # into a Local channel: the dialplan goes on, Dial comes later
        user, via = _dial_target(m.get("dialstring", ""))
        exten = m.get("exten", "")
        to_trunk = self.is_trunk(dest, m.get("destcontext", ""))
        if via is not None and (via in self.trunks or (not self.trunks and _NUMBER.match(user))):
            to_trunk = True
        if not to_trunk:
            return None
        for candidate in (user, exten, _cid(m.get("destcalleridnum", ""))):
            if _NUMBER.match(candidate):
                return candidate
        return ""


def endpoint_of(channel: str) -> str | None:
    """``PJSIP/telekom-0000002a`` -> ``telekom``; None for Local channels."""
    tech, _, rest = channel.partition("/")
    if not rest or tech.lower() == "local":
        return None
    rest = rest.split("<", 1)[0]  # <MASQ>, <ZOMBIE> while channels are swapped
    name, dash, _ = rest.rpartition("-")
    return name if dash else rest


def _dial_target(dialstring: str) -> tuple[str, str | None]:
    """The number and the endpoint it goes through, from what Dial was given:
    ``0891234@telekom`` (PJSIP), ``telekom/0891234`` (SIP, IAX2, DAHDI groups),
    ``telekom/sip:0891234@host`` (PJSIP to a URI); a plain ``201`` names a phone."""
    target = dialstring.split(",", 1)[0].split("&", 1)[0]
    endpoint, slash, rest = target.partition("/")
    if not slash:
        endpoint, rest = "", target
    user, at, host = rest.partition("@")
    user = user.removeprefix("sips:").removeprefix("sip:")
    return user, endpoint or (host if at else None)


def _dest_channel(m: Message) -> str:
    return m.get("destchannel") or m.get("destination", "")


@dataclass(slots=True)
class _Call:
    inbound: bool
    number: str
    name: str
    exten: str
    outbound: bool = False
    rang: bool = False
    answered: bool = False
    cause: str | None = None
    phone: str | None = None  # the firm's side of an outbound call

    @property
    def direction(self) -> str | None:
        return "inbound" if self.inbound else "outbound" if self.outbound else None


class AmiCallMapper:
    """Turns AMI call events into signals, one call per Linkedid; internal calls give none."""

    def __init__(
        self, layout: PbxLayout | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.layout = layout or PbxLayout()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.internal_calls = 0  # calls that only reached phones, for health
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._channels: OrderedDict[str, str] = OrderedDict()  # Uniqueid -> Linkedid

    @property
    def open_calls(self) -> int:
        return len(self._calls)

    def feed(self, m: Message) -> list[Signal]:
        event = m.get("event", "")
        if event == "Dial":
            event = _OLD_DIAL.get(m.get("subevent", "").lower(), "")
        if event == "LocalBridge":
            self._join(m.get("uniqueid2", ""), m.get("uniqueid1", ""))
            return []
        unique = m.get("uniqueid", "")
        linked = m.get("linkedid") or self._channels.get(unique) or unique
        if not linked:
            return []
        at = _timestamp(m) or self.clock()
        if event == "Newchannel":
            _remember(self._channels, unique, linked)
            if unique == linked and linked not in self._calls:
                _remember(self._calls, linked, self._new_call(m))
            return []
        if event == "Hangup":
            return self._hangup(unique, linked, m, at)
        call = self._calls.get(linked)
        if call is None and event == "DialBegin" and unique == linked:
            call = self._new_call(m)  # the call started before we connected
            _remember(self._calls, linked, call)
        if call is None:
            return []
        if event == "DialBegin":
            self._join(m.get("destuniqueid", ""), linked)
            return self._dial(linked, call, m, at)
        if call.direction is None:
            return []  # internal so far: nothing of it is recorded
        return self._progress(event, unique == linked, linked, call, m, at)

    # -- phases -------------------------------------------------------------------

    def _dial(self, linked: str, call: _Call, m: Message, at: datetime) -> list[Signal]:
        if call.inbound and not call.rang:
            call.rang = True
            dest = _dest_channel(m)
            extension = _cid(m.get("destcalleridnum", "")) or endpoint_of(dest) or None
            line = "" if call.exten == "s" else call.exten
            return [
                Signal(
                    "ring",
                    linked,
                    at,
                    number_raw=call.number,
                    line=line,
                    extension=extension,
                    caller_name=call.name,
                )
            ]
        if call.inbound or call.outbound:
            return []
        dialled = self.layout.number_dialled_out(m)
        if dialled is None:
            return []
        call.outbound = True
        call.phone = call.number or _cid(m.get("calleridnum", "")) or None
        return [Signal("placed", linked, at, number_raw=dialled, extension=call.phone)]

    def _progress(
        self, event: str, first: bool, linked: str, call: _Call, m: Message, at: datetime
    ) -> list[Signal]:
        if event == "DialEnd":
            status = m.get("dialstatus", "")
            if status == "ANSWER":
                return self._answered(linked, call, _cid(m.get("destcalleridnum", "")), at)
            call.cause = call.cause or _DIAL_CAUSES.get(status)
        # A phone's channel (never a Local one) going Up or into a bridge: picked up.
        up = event == "BridgeEnter" or (event == "Newstate" and m.get("channelstate") == "6")
        if up and not first and endpoint_of(m.get("channel", "")) is not None:
            return self._answered(linked, call, _cid(m.get("calleridnum", "")), at)
        if event == "Newexten" and first and m.get("application", "").lower() == "voicemail":
            call.cause = "voicemail"
        return []

    def _answered(self, linked: str, call: _Call, who: str, at: datetime) -> list[Signal]:
        if call.answered:
            return []
        call.answered = True
        # Inbound: the phone that picked up; outbound: the far end did, on our phone's call.
        extension = (who or None) if call.inbound else call.phone
        return [Signal("answered", linked, at, extension=extension, answered_by=extension)]

    def _hangup(self, unique: str, linked: str, m: Message, at: datetime) -> list[Signal]:
        self._channels.pop(unique, None)
        if unique != linked:
            return []
        call = self._calls.pop(linked, None)
        if call is None:
            return []
        if call.direction is None:
            self.internal_calls += 1
            return []
        cause = None if call.answered else call.cause or _HANGUP_CAUSES.get(m.get("cause", ""))
        number = call.number if call.inbound else ""
        return [
            Signal("ended", linked, at, number_raw=number, cause=cause, direction=call.direction)
        ]

    # -- channels -----------------------------------------------------------------

    def _new_call(self, m: Message) -> _Call:
        inbound = self.layout.is_trunk(m.get("channel", ""), m.get("context", ""))
        return _Call(
            inbound,
            _cid(m.get("calleridnum", "")),
            _cid(m.get("calleridname", "")),
            m.get("exten", ""),
        )

    def _join(self, unique: str, linked: str) -> None:
        """Puts a channel into a call (Asterisk < 12, which sends no Linkedid)."""
        if not unique or not linked:
            return
        linked = self._channels.get(linked, linked)
        if unique != linked:
            self._calls.pop(unique, None)  # it looked like a call of its own until now
            _remember(self._channels, unique, linked)


def _remember(table: OrderedDict[str, T], key: str, value: T) -> None:
    table[key] = value
    while len(table) > MAX_TRACKED_CALLS:
        table.popitem(last=False)


def _cid(value: str) -> str:
    """A caller id field; Asterisk writes "<unknown>" for none."""
    return "" if value in ("<unknown>", "unknown", "anonymous") else value[:200]


def _timestamp(m: Message) -> datetime | None:
    """``Timestamp: 1409169929.412068`` (manager.conf timestampevents = yes)."""
    try:
        return datetime.fromtimestamp(float(m["timestamp"]), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None
