"""Which call events wait for the disk: the start of a call does not, the rest does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from adapters.telephony.model import CallTracker, Signal
from adapters.telephony.recording import record_calls
from hub.capture import Capture
from hub.health import ComponentHealth
from hub.phone import normalize
from hub.store import EventStore, Transaction
from tests.telephony.conftest import call_events

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class WatchedCapture(Capture):
    """The real capture, noting how each transaction was asked to commit."""

    def __init__(self, store: EventStore) -> None:
        super().__init__(store, "office", ComponentHealth("adapter:office"))
        self.commits: list[bool] = []

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Transaction]:
        async with super().transaction(durable=durable) as tx:
            yield tx
        self.commits.append(durable)


async def test_ringing_commits_without_fsync_and_the_rest_durably(store: EventStore) -> None:
    capture = WatchedCapture(store)
    tracker = CallTracker("office", lambda raw: normalize(raw, "DE", "30"))
    ring = Signal("ring", "c1", AT, number_raw="030555111", line="3012345")
    placed = Signal("placed", "c2", AT, number_raw="0891234567", extension="21")
    assert await record_calls(capture, tracker.feed(ring)) == 1
    assert await record_calls(capture, tracker.feed(placed)) == 1
    assert await record_calls(capture, tracker.feed(Signal("answered", "c1", AT))) == 1
    both = tracker.feed(Signal("ended", "c2", AT)) + tracker.feed(Signal("ring", "c3", AT))
    assert await record_calls(capture, both) == 2
    assert await record_calls(capture, tracker.feed(Signal("ended", "c1", AT))) == 1
    assert capture.commits == [False, False, True, True, True]
    assert [r.type_name for r in await call_events(store)] == [
        "CallRinging",
        "CallPlaced",
        "CallAnswered",
        "CallEnded",
        "CallRinging",
        "CallEnded",
    ]
    # A repeat appends nothing, whichever way it commits.
    assert await record_calls(capture, tracker.feed(ring)) == 0
