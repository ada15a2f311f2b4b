"""Hands a tracker's events to the hub: one commit per signal, every event keyed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from adapters.telephony.model import Captured
from hub.capture import Capture
from hub.events.calls import CallPlaced, CallRinging
from hub.store import ANY

log = logging.getLogger(__name__)
T = TypeVar("T")

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


# Call events the store refused (its disk full, the database gone), held for the next
# try: a phone system sends nothing twice. Past this many, the driver fails (and shows it).
MAX_HELD = 10_000
RETRY_SECONDS = 1.0


class HeldCalls:
    """A call driver's events on their way to the store. When the store refuses them they
    are held in memory and tried again (every second and with the next events) while the
    driver stays connected: dropping the connection would lose the calls the phone system
    reports meanwhile, and neither a FRITZ!Box nor Asterisk replays them."""

    def __init__(self, source: str) -> None:
        self.source = source  # "FRITZ!Box fritz.box", for the log and health
        self._held: list[Captured] = []  # taken from the phone system, not recorded yet
        self._recording = asyncio.Lock()
        self._refusing = False  # the store refused the last try

    @property
    def holding(self) -> bool:
        """Whether events wait for the store (health says so meanwhile)."""
        return bool(self._held)

    async def record(self, capture: Capture, captured: list[Captured]) -> None:
        """Records `captured` after what is held, in one commit; a commit under way when
        Kartei stops is finished first."""
        self._held += captured
        await finish(self._record_held(capture))

    async def retry(self, capture: Capture) -> None:
        """Runs beside the driver: tries what is held again every second."""
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            if self._held:
                await self._record_held(capture)

    async def _record_held(self, capture: Capture) -> None:
        async with self._recording:
            batch, self._held = self._held, []
            if not batch:
                return
            try:
                await record_calls(capture, batch)
            except Exception as err:
                self._held = batch + self._held
                if len(self._held) > MAX_HELD:
                    raise
                self._refused(capture, err)
                return
            if self._refusing:  # recorded again: the degradation was ours
                self._refusing = False
                capture.health.set("ok")
                log.info("%s: held call events recorded", self.source)

    def _refused(self, capture: Capture, err: Exception) -> None:
        cause = getattr(err, "orig", None) or err  # the driver's error, not the statement
        why = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0][:200]}"
        capture.health.set("degraded", f"{len(self._held)} call events held: {why}")
        if not self._refusing:  # once, not at every retry
            log.warning("%s: the store refused call events, held: %s", self.source, why)
        self._refusing = True


async def finish(work: Awaitable[T]) -> T:
    """Awaits `work` to its end even when the caller is cancelled meanwhile, then lets the
    cancellation through: a commit under way when Kartei stops is completed, not cut off."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
