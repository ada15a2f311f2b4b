"""Today's calls on the firm's sipgate line, as the pushes sipgate.io sends for each call.

sipgate.io's push API posts form fields to the URL configured for the line: ``newCall``
when it rings (``from``, ``to``, ``direction``, ``callId``, ``user[]``), ``answer`` when
someone picks up (``user``, ``answeringNumber``), ``hangup`` at the end (``cause``:
normalClearing after a talk, cancel when the caller gave up). Numbers are E.164 digits
without "+".
"""

from __future__ import annotations

from hub.demo import firm
from hub.demo.browser import Browser, Fields
from hub.demo.script import LiveCall

OWN_NUMBER = f"49{firm.AREA_CODE}{firm.LINE}"


def pushes(call: LiveCall) -> list[Fields]:
    """The pushes of one call, in the order sipgate sends them."""
    staff = firm.STAFF_BY_NAME[call.user].name
    parties = (call.number, OWN_NUMBER) if call.inbound else (OWN_NUMBER, call.number)
    base = {
        "from": parties[0],
        "to": parties[1],
        "direction": "in" if call.inbound else "out",
        "callId": call.call_id,
    }
    ring: Fields = {**base, "event": "newCall", "user[]": [staff]}
    if not call.answered:
        return [ring, {**base, "event": "hangup", "cause": "cancel"}]
    answer = {**base, "event": "answer", "user": staff, "answeringNumber": OWN_NUMBER}
    return [ring, answer, {**base, "event": "hangup", "cause": "normalClearing"}]


def push_calls(base_url: str, calls: list[LiveCall]) -> int:
    """Posts every push of every call to Kartei's sipgate webhook; returns how many."""
    provider = Browser(base_url)
    path = f"/telephony/sipgate/{firm.WEBHOOK_TOKEN}"
    sent = 0
    for call in calls:
        for fields in pushes(call):
            provider.post(path, fields)
            sent += 1
    return sent
