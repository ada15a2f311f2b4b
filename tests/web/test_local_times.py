"""Times on the call list and the card are the moments captured, in the firm's time zone,
on both databases.

Regression: SQLite kept an aware time's wall-clock digits without its offset, so a FRITZ!Box
call at 09:00 in Berlin (the box reports local time) or a mail sent at 10:00 +01:00 read
back an hour (two in summer) late.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hub.events import NewEvent
from hub.events.calls import CallEnded, CallRinging
from hub.events.mail import EmailReceived
from hub.store import EventStore
from tests.web.conftest import Web
from tests.web.test_pages import contact

BERLIN = ZoneInfo("Europe/Berlin")


async def test_a_call_and_a_mail_at_their_local_time(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await contact(store)
    rang = (datetime.now(BERLIN) - timedelta(minutes=5)).replace(second=0, microsecond=0)
    call_id = uuid.uuid4().hex[:8]
    ringing = CallRinging(
        call_id=call_id, source="fritzbox", line="3012345", caller="+4930123456", at=rang
    )
    ended = CallEnded(
        call_id=call_id,
        source="fritzbox",
        cause="missed",
        number="+4930123456",
        at=rang + timedelta(seconds=20),
    )
    await store.append(f"call-fritzbox-{call_id}", 0, [NewEvent(ringing), NewEvent(ended)])
    sent = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    mail = EmailReceived(
        message_id="<zeit@kunde.example>",
        sender="erika@kunde.example",
        to=("info@firma.example",),
        subject="Liefertermin",
        text="Wann kommt die Ware?",
        date=sent,
    )
    await store.append("email-zeit", 0, [NewEvent(mail)])
    await web.settle()
    calls = await http.get("/calls")
    assert calls.status_code == 200
    row = re.search(
        r'<tr class="call[^"]*" data-call="call-fritzbox-[^"]+">.*?</tr>', calls.text, re.S
    )
    assert row is not None, calls.text
    assert f"{rang:%d.%m.%Y %H:%M}" in row.group(0)
    card = (await http.get(f"/contacts/{cid}")).text
    assert f"<time>{rang:%d.%m.%Y %H:%M}</time>" in card
    assert "<time>02.03.2026 10:00</time>" in card
    board = (await http.get("/")).text
    assert f"<time>{rang:%d.%m.%Y %H:%M}</time>" in board
