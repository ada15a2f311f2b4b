"""What the TCP drivers share: reconnect backoff, keepalive, closing calls left ringing."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from adapters.telephony.model import CallTracker
from adapters.telephony.recording import record_calls
from hub.capture import Capture

# Transport errors a driver retries; anything else is a bug and goes to the supervisor.
RETRYABLE = (OSError, asyncio.IncompleteReadError, TimeoutError, EOFError)


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


async def expire_calls(capture: Capture, tracker: CallTracker, interval: float) -> None:
    """Closes calls left ringing past the tracker's timeout, checking every `interval`."""
    while True:
        await asyncio.sleep(interval)
        await record_calls(capture, tracker.expire())


def check_interval(tracker: CallTracker) -> float:
    return max(0.05, min(tracker.ring_timeout / 4, 5.0))
