"""The FRITZ!Box call monitor driver: a TCP client to port 1012 that never gives up."""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo

from adapters.telephony.connection import (
    RETRYABLE,
    Backoff,
    check_interval,
    close_quietly,
    expire_calls,
    keep_alive,
    received_before_stop,
)
from adapters.telephony.fritzbox_parsing import (
    CallMonitorLineError,
    LineFramer,
    Overlong,
    parse_line,
)
from adapters.telephony.model import CallTracker, Captured
from adapters.telephony.recording import HeldCalls
from hub.capture import Capture

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0


class FritzBoxMonitor:
    """Follows one box's call monitor; reconnects with backoff when the box restarts.

    The call state outlives a connection, so a call that rang before a drop and ends after
    the reconnect is still one call.
    """

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        tracker: CallTracker,
        tz: tzinfo,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.tracker = tracker
        self.tz = tz
        self.backoff = backoff or Backoff()
        self.connections = 0  # successful connects, for health and tests
        self.skipped_lines = 0
        self.calls = HeldCalls(f"FRITZ!Box {host}")  # held when the store refuses them

    async def run(self, capture: Capture) -> None:
        async with asyncio.TaskGroup() as tasks:
            interval = check_interval(self.tracker)
            tasks.create_task(expire_calls(capture, self.tracker, interval, self.calls.record))
            tasks.create_task(self._connect_forever(capture))
            tasks.create_task(self.calls.retry(capture))

    async def _connect_forever(self, capture: Capture) -> None:
        where = f"{self.host}:{self.port}"
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT
                )
            except RETRYABLE as err:
                capture.health.set("degraded", f"cannot connect to {where}: {err!r}")
                await asyncio.sleep(self.backoff.next())
                continue
            keep_alive(writer)
            self.connections += 1
            capture.health.set("ok", connected=where, open_calls=self.tracker.open_calls)
            try:
                await self._follow(reader, capture)
                reason = "closed by the box"
            except RETRYABLE as err:
                reason = repr(err)
            finally:
                await close_quietly(writer)
            capture.health.set("degraded", f"call monitor {where} lost: {reason}")
            log.warning("FRITZ!Box %s: connection lost (%s); reconnecting", where, reason)
            await asyncio.sleep(self.backoff.next())

    async def _follow(self, reader: asyncio.StreamReader, capture: Capture) -> None:
        framer = LineFramer()
        try:
            while data := await reader.read(4096):
                self.backoff.reset()  # the box talks: the next drop starts the backoff over
                await self._record(framer, data, capture)
        except asyncio.CancelledError:
            await self._keep_the_rest(reader, framer, capture)
            raise

    async def _keep_the_rest(
        self, reader: asyncio.StreamReader, framer: LineFramer, capture: Capture
    ) -> None:
        """Kartei stops: the box does not replay, so the lines it has sent are recorded.
        The stop goes on whatever happens here (it must not become a restart)."""
        try:
            await self._record(framer, await received_before_stop(reader), capture)
        except Exception:
            log.exception("FRITZ!Box %s: lines received at the stop were not recorded", self.host)

    async def _record(self, framer: LineFramer, data: bytes, capture: Capture) -> None:
        # Lines that arrived together are committed together (one commit per read), and a
        # commit under way when Kartei stops is finished first.
        captured = [c for line in framer.feed(data) for c in self._take(line)]
        await self.calls.record(capture, captured)

    def _take(self, line: bytes | Overlong) -> list[Captured]:
        if isinstance(line, Overlong):
            self._skip(f"over-long line of {line.size} bytes")
            return []
        try:
            signal = parse_line(line, self.tz)
        except CallMonitorLineError as err:
            self._skip(str(err))
            return []
        return self.tracker.feed(signal) if signal is not None else []

    def _skip(self, why: str) -> None:
        self.skipped_lines += 1
        log.warning("FRITZ!Box %s: skipped %s", self.host, why)
