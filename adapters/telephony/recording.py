"""Hands a tracker's events to the hub: one commit per signal, every event keyed."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.telephony.model import Captured
from hub.capture import Capture
from hub.events.calls import CallPlaced, CallRinging
from hub.store import ANY

# The start of a call is what someone waits for (the screen pop), so it is committed
# without waiting for the disk: it survives a crash of Kartei, and only a power failure
# in the moment before the next durable commit can lose it (docs/telephony.md). Answers
# and ends (missed calls open call-back tasks) wait for the disk as everything else does.
FAST_EVENTS = (CallRinging, CallPlaced)


async def record_calls(capture: Capture, items: Sequence[Captured]) -> int:
    """Records the events in one transaction; returns how many were new."""
    if not items:
        return 0
    durable = not all(isinstance(item.event, FAST_EVENTS) for item in items)
    async with capture.transaction(durable=durable) as tx:
        for item in items:
            await tx.append(item.stream, ANY, capture.keyed([item.event], item.key))
        return tx.appended
