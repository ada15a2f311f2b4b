"""The Asterisk Manager Interface, parsed purely: framing and actions.

AMI speaks ``Key: Value`` lines (CRLF) in messages ended by an empty line, after a
greeting line ``Asterisk Call Manager/<version>``. What call events mean is
`adapters.telephony.ami_calls`.
"""

from __future__ import annotations

from adapters.telephony.fritzbox_parsing import LineFramer, Overlong

Message = dict[str, str]  # keys in lower case

# An AMI message of a call event has ~20 lines; more than this is not one.
MAX_MESSAGE_LINES = 200


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
