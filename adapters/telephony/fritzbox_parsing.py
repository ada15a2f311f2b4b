"""The FRITZ!Box call monitor format (TCP 1012, enabled with ``#96*5*``), parsed purely.

Lines, ``;``-separated, terminated by CRLF or LF::

    dd.mm.yy hh:mm:ss;RING;id;caller;callee;SIP0;
    dd.mm.yy hh:mm:ss;CALL;id;extension;own;callee;SIP0;
    dd.mm.yy hh:mm:ss;CONNECT;id;extension;number;
    dd.mm.yy hh:mm:ss;DISCONNECT;id;seconds;

A withheld caller is an empty field; the line name is SIP0..SIPn, ISDN, POTS or a mobile
stick's name. Timestamps are the box's local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from adapters.telephony.model import Signal

# A real line is under 150 bytes; anything past this is not the call monitor talking.
MAX_LINE_BYTES = 1024

_STAMP = re.compile(r"^\d{2}\.\d{2}\.\d{2} \d{2}:\d{2}:\d{2}$")
_ID = re.compile(r"^\d{1,6}$")
# Digits and what boxes put around them ('+', '#', '*'), or a SIP URI's user@host.
_NUMBER = re.compile(r"^[0-9A-Za-z+#*@._:\- ]{0,80}$")
_FIELDS = {"RING": 6, "CALL": 7, "CONNECT": 5, "DISCONNECT": 4}


class CallMonitorLineError(ValueError):
    """A line that is not in the call monitor format."""


@dataclass(frozen=True, slots=True)
class Overlong:
    """Marks where an over-long line was skipped, with how many bytes it had."""

    size: int


class LineFramer:
    """Bytes as they arrive -> complete lines (CRLF or LF); over-long lines are skipped."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._skipping = 0  # bytes of an over-long line dropped so far

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        out: list[bytes | Overlong] = []
        self._buffer += data
        while (end := self._buffer.find(b"\n")) >= 0:
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if self._skipping or len(line) > self.max_line:
                out.append(Overlong(self._skipping + len(line)))
                self._skipping = 0
            else:
                out.append(line)
        if len(self._buffer) > self.max_line:
            self._skipping += len(self._buffer)
            self._buffer.clear()
        return out


def parse_line(line: bytes | str, tz: tzinfo) -> Signal | None:
    """The signal one line carries; None for an empty line; raises on anything else."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    text = text.strip()
    if not text:
        return None
    fields = text.split(";")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) < 3:
        raise CallMonitorLineError(f"not a call monitor line: {text[:80]!r}")
    stamp, kind, call_id = fields[0], fields[1], fields[2]
    need = _FIELDS.get(kind)
    if need is None or len(fields) < need - 1:
        raise CallMonitorLineError(f"unknown or short {kind[:20]!r} line: {text[:80]!r}")
    if not _STAMP.match(stamp) or not _ID.match(call_id):
        raise CallMonitorLineError(f"bad time or connection id: {text[:80]!r}")
    try:
        at = datetime.strptime(stamp, "%d.%m.%y %H:%M:%S").replace(tzinfo=tz)
    except ValueError as err:
        raise CallMonitorLineError(f"bad time {stamp!r}") from err
    rest = [*fields[3:], "", "", ""]
    return _signal(kind, call_id, at, rest)


def _signal(kind: str, call_id: str, at: datetime, f: list[str]) -> Signal:
    if kind == "RING":
        return Signal(
            "ring", call_id, at, number_raw=_number(f[0]), line=_number(f[1]), trunk=f[2] or None
        )
    if kind == "CALL":
        return Signal(
            "placed",
            call_id,
            at,
            extension=f[0] or None,
            line=_number(f[1]),
            number_raw=_number(f[2]),
            trunk=f[3] or None,
        )
    if kind == "CONNECT":
        return Signal("answered", call_id, at, extension=f[0] or None, number_raw=_number(f[1]))
    if not (f[0].isdigit() and len(f[0]) <= 7):
        raise CallMonitorLineError(f"bad duration {f[0][:20]!r}")
    return Signal("ended", call_id, at, duration=int(f[0]))


def _number(value: str) -> str:
    value = value.strip()
    if not _NUMBER.match(value):
        raise CallMonitorLineError(f"bad number field {value[:40]!r}")
    return value
