"""Builders for the events the web app shows, as the capture adapters record them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hub.events import NewEvent
from hub.events.calls import CallAnswered, CallEnded, CallRinging
from hub.events.mail import EmailReceived
from hub.store import EventStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def email(
    store: EventStore,
    sender: str,
    subject: str,
    *,
    text: str = "Hallo",
    minutes: int = 0,
    html_ref: str | None = None,
    sender_name: str = "",
) -> tuple[str, int]:
    stream = f"email-{uuid.uuid4().hex[:12]}"
    event = EmailReceived(
        message_id=f"<{uuid.uuid4().hex}@example.org>",
        sender=sender,
        sender_name=sender_name,
        to=("info@firma.example",),
        subject=subject,
        text=text,
        html_ref=html_ref,
        date=T0 + timedelta(minutes=minutes),
    )
    result = await store.append(stream, 0, [NewEvent(event)])
    return stream, result.positions[-1]


async def call(
    store: EventStore,
    caller: str,
    *,
    answered: bool = True,
    minutes: int = 0,
    line: str = "3012345",
    caller_name: str = "",
) -> str:
    call_id = uuid.uuid4().hex[:8]
    stream = f"call-test-{call_id}"
    at = T0 + timedelta(minutes=minutes)
    events = [
        CallRinging(
            call_id=call_id,
            source="test",
            line=line,
            caller=caller,
            caller_raw=caller,
            caller_name=caller_name,
            at=at,
        )
    ]
    if answered:
        events.append(CallAnswered(call_id=call_id, source="test", extension="21", at=at))
    events.append(
        CallEnded(
            call_id=call_id,
            source="test",
            cause="answered" if answered else "missed",
            duration_seconds=95 if answered else 0,
            number=caller,
            number_raw=caller,
            at=at,
        )
    )
    await store.append(stream, 0, [NewEvent(e) for e in events])
    return stream
