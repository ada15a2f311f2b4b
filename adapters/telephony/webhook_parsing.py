"""Cloud PBX webhook bodies -> call signals, purely.

- sipgate.io push API: form fields ``event`` (newCall, answer, hangup), ``callId``,
  ``from``, ``to``, ``direction`` (in, out), ``user[]``; ``answer`` adds ``user`` and
  ``answeringNumber``; ``hangup`` adds ``cause`` (normalClearing, busy, cancel, noAnswer,
  congestion, notFound, forwarded). newCall is answered with XML naming the URLs that
  receive onAnswer and onHangup. Numbers are E.164 without "+" ("4915791234567") or
  "anonymous" (`sipgate_number`).
- Zammad's generic CTI: the same fields and events (newCall, answer, hangup); its numbers
  are either E.164 without "+" ("493055571600") or national ("02214710334"), or
  "anonymous": read as `hub.phone.readings` explains.
- Placetel notify: ``event`` (IncomingCall, OutgoingCall, CallAccepted, HungUp),
  ``call_id``, ``from``, ``to``, ``peer``; HungUp adds ``type`` (accepted, missed,
  voicemail, busy, blocked, canceled, unavailable, congestion) and ``duration``. Numbers
  are national with the trunk 0 ("022129191999") or "anonymous".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import quoteattr

import orjson

from adapters.telephony.model import Signal

MAX_BODY_BYTES = 16_384
MAX_FIELD = 200
MAX_FIELDS = 100  # form fields in one body; a provider sends about ten
_CALL_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# sipgate / Zammad hangup causes; None: decided by whether the call was answered.
_SIPGATE_CAUSES: Mapping[str, str | None] = {
    "normalClearing": None,
    "busy": "busy",
    "cancel": "missed",
    "noAnswer": "missed",
    "congestion": "unknown",
    "notFound": "unknown",
    "forwarded": "unknown",
}
_PLACETEL_CAUSES: Mapping[str, str] = {
    "accepted": "answered",
    "missed": "missed",
    "canceled": "missed",
    "unavailable": "missed",
    "voicemail": "voicemail",
    "busy": "busy",
    "blocked": "rejected",
    "congestion": "unknown",
}

_WITHHELD = frozenset({"anonymous", "unknown", "restricted", "withheld", "private"})
# E.164 without its "+": a country code (never 0) and at most 15 digits in all. Shorter
# digit strings are a sipgate account's own extensions, never a public number.
_E164_DIGITS = re.compile(r"[1-9]\d{6,14}")

Fields = dict[str, list[str]]


class WebhookBodyError(ValueError):
    """A webhook body that is not what the provider documents."""


def read_body(body: bytes, content_type: str) -> Fields:
    """Form-encoded (as the providers send) or JSON fields; every value a list of strings."""
    if len(body) > MAX_BODY_BYTES:
        raise WebhookBodyError(f"body over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise WebhookBodyError("body is not UTF-8") from err
    fields: Fields = {}
    if "json" in content_type:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as err:
            raise WebhookBodyError("body is not JSON") from err
        if not isinstance(data, dict):
            raise WebhookBodyError("JSON body is not an object")
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            fields[key.removesuffix("[]")] = ["" if v is None else str(v) for v in values]
        return fields
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as err:  # parse_qsl's own refusal of too many fields
        raise WebhookBodyError(f"more than {MAX_FIELDS} fields") from err
    for key, value in pairs:
        fields.setdefault(key.removesuffix("[]"), []).append(value)
    return fields


def sipgate_signal(fields: Fields, now: datetime) -> Signal | None:
    """The signal of a sipgate.io (or Zammad CTI) push; None for events we ignore (dtmf)."""
    event = _one(fields, "event")
    call_id = _call_id(fields, "callId")
    inbound = _one(fields, "direction") != "out"
    users = [_clip(u) for u in fields.get("user", []) if u][:10]
    # Later events repeat who calls whom: enough for a call whose newCall we never saw.
    party: dict[str, Any] = {
        "number_raw": _number(fields, "from" if inbound else "to"),
        "direction": "inbound" if inbound else "outbound",
    }
    if event == "newCall":
        if inbound:
            return Signal(
                "ring",
                call_id,
                now,
                number_raw=_number(fields, "from"),
                line=_one(fields, "to"),
                extension=", ".join(users) or None,
            )
        return Signal(
            "placed",
            call_id,
            now,
            number_raw=_number(fields, "to"),
            line=_one(fields, "from"),
            extension=users[0] if users else None,
        )
    if event == "answer":
        return Signal(
            "answered",
            call_id,
            now,
            extension=_one(fields, "answeringNumber") or None,
            answered_by=users[0] if users else None,
            **party,
        )
    if event == "hangup":
        cause = _one(fields, "cause")
        if cause not in _SIPGATE_CAUSES:
            raise WebhookBodyError(f"unknown hangup cause {cause[:40]!r}")
        return Signal("ended", call_id, now, cause=_SIPGATE_CAUSES[cause], **party)
    if event in ("dtmf", ""):
        return None
    raise WebhookBodyError(f"unknown event {event[:40]!r}")


def placetel_signal(fields: Fields, now: datetime) -> Signal | None:
    """The signal of a Placetel notify request."""
    event = _one(fields, "event")
    call_id = _call_id(fields, "call_id")
    peer = _one(fields, "peer") or None
    if event == "IncomingCall":
        return Signal(
            "ring",
            call_id,
            now,
            number_raw=_number(fields, "from"),
            line=_one(fields, "to"),
            extension=peer,
        )
    if event == "OutgoingCall":
        return Signal(
            "placed",
            call_id,
            now,
            number_raw=_number(fields, "to"),
            line=_one(fields, "from"),
            extension=peer,
        )
    if event == "CallAccepted":
        return Signal("answered", call_id, now, extension=peer, answered_by=peer)
    if event == "HungUp":
        kind = _one(fields, "type")
        duration = _one(fields, "duration")
        return Signal(
            "ended",
            call_id,
            now,
            cause=_PLACETEL_CAUSES.get(kind, "unknown"),
            duration=int(duration) if duration.isdigit() and len(duration) < 7 else None,
        )
    raise WebhookBodyError(f"unknown event {event[:40]!r}")


def sipgate_number(raw: str) -> str:
    """A number as sipgate.io sends it, with the "+" its documented format leaves out, so
    that "491518275367" is never read as a national number of the 0491 area."""
    return "+" + raw if _E164_DIGITS.fullmatch(raw) else raw


def sipgate_reply(url: str) -> str:
    """The XML that subscribes sipgate to this call's answer and hangup events."""
    quoted = quoteattr(url)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response onAnswer={quoted} onHangup={quoted} />\n"
    )


def _one(fields: Fields, name: str) -> str:
    values = fields.get(name) or [""]
    return _clip(values[0])


def _number(fields: Fields, name: str) -> str:
    """The number as sent; "" when withheld (sipgate sends "anonymous")."""
    value = _one(fields, name)
    return "" if value.lower() in _WITHHELD else value


def _clip(value: str) -> str:
    if len(value) > MAX_FIELD:
        raise WebhookBodyError(f"field over {MAX_FIELD} characters")
    return value.strip()


def _call_id(fields: Fields, name: str) -> str:
    value = _one(fields, name)
    if not _CALL_ID.match(value):
        raise WebhookBodyError(f"missing or malformed {name}")
    return value
