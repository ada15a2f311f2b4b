"""Hands a tracker's events to the hub: one commit per signal, every event keyed."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.telephony.model import Captured
from hub.capture import Capture
from hub.store import ANY


async def record_calls(capture: Capture, items: Sequence[Captured]) -> int:
    """Records the events in one transaction; returns how many were new."""
    if not items:
        return 0
    async with capture.transaction() as tx:
        for item in items:
            await tx.append(item.stream, ANY, capture.keyed([item.event], item.key))
        return tx.appended
