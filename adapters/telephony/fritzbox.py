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
    finish,
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
from adapters.telephony.recording import record_calls
from hub.capture import Capture

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
# Call events the store refused (its disk full, the database gone), held for the next
# try: the box sends nothing twice. Past this many, the monitor fails (and shows it).
MAX_HELD = 10_000
RETRY_SECONDS = 1.0


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
        self._held: list[Captured] = []  # taken from the box, not recorded yet
        self._recording = asyncio.Lock()
        self._refusing = False  # the store refused the last try

    async def run(self, capture: Capture) -> None:
        async with asyncio.TaskGroup() as tasks:
            interval = check_interval(self.tracker)
            tasks.create_task(expire_calls(capture, self.tracker, interval, self._hold_and_record))
            tasks.create_task(self._connect_forever(capture))
            tasks.create_task(self._retry_held(capture))

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
        await self._hold_and_record(capture, captured)

    async def _hold_and_record(self, capture: Capture, captured: list[Captured]) -> None:
        self._held += captured
        await finish(self._record_held(capture))

    async def _retry_held(self, capture: Capture) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            if self._held:
                await self._record_held(capture)

    async def _record_held(self, capture: Capture) -> None:
        """Records the held events in one commit. When the store refuses them, they stay
        held and the connection stays up: dropping it would lose the calls the box reports
        meanwhile, and the box sends nothing again."""
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
                log.info("FRITZ!Box %s: held call events recorded", self.host)

    def _refused(self, capture: Capture, err: Exception) -> None:
        cause = getattr(err, "orig", None) or err  # the driver's error, not the statement
        why = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0][:200]}"
        capture.health.set("degraded", f"{len(self._held)} call events held: {why}")
        if not self._refusing:  # once, not at every retry
            log.warning("FRITZ!Box %s: the store refused call events, held: %s", self.host, why)
        self._refusing = True

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
