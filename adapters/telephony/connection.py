"""What the TCP drivers share: reconnect backoff, keepalive, closing calls left ringing,
keeping what the peer sent when Kartei stops."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

from adapters.telephony.model import CallTracker, Captured
from adapters.telephony.recording import record_calls
from hub.capture import Capture

# Transport errors a driver retries; anything else is a bug and goes to the supervisor.
RETRYABLE = (OSError, asyncio.IncompleteReadError, TimeoutError, EOFError)

# At a stop, bytes the peer sent are read until the line has been quiet this long (what
# was in flight as the stop came), but the stop waits no longer than STOP_READ_MOST.
STOP_READ_QUIET = 0.1
STOP_READ_MOST = 1.0


class Backoff:
    """Delays that double from `initial` up to `maximum`; `reset` after a good connection."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.current = initial

    def next(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self.current = self.initial


def keep_alive(writer: asyncio.StreamWriter) -> None:
    """TCP keepalive, so a box that vanished silently is noticed (the monitor is quiet)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(*RETRYABLE):
        await writer.wait_closed()


async def expire_calls(
    capture: Capture,
    tracker: CallTracker,
    interval: float,
    record: Callable[[Capture, list[Captured]], Awaitable[object]] = record_calls,
) -> None:
    """Closes calls left ringing past the tracker's timeout, checking every `interval`."""
    while True:
        await asyncio.sleep(interval)
        await record(capture, tracker.expire())


def check_interval(tracker: CallTracker) -> float:
    return max(0.05, min(tracker.ring_timeout / 4, 5.0))


async def received_before_stop(reader: asyncio.StreamReader) -> bytes:
    """What the peer sent that this side has not read yet, called as the reader stops: the
    bytes already received and those still arriving, until the line is quiet.

    A phone system does not send its call events again (the FRITZ!Box has no replay), so a
    line that reached the socket and was dropped at a clean stop would be a lost call.
    """
    chunks: list[bytes] = []
    with contextlib.suppress(*RETRYABLE):
        async with asyncio.timeout(STOP_READ_MOST):
            while data := await _read_within(reader, STOP_READ_QUIET):
                chunks.append(data)
    return b"".join(chunks)


async def _read_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """The next bytes, or b"" when none come within `seconds` or the peer closed."""
    try:
        async with asyncio.timeout(seconds):
            return await reader.read(65536)
    except TimeoutError:
        return b""
