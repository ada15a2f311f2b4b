"""A token bucket for the HTTP endpoints: strangers can reach them, so they are limited."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import HTTPException

# A small firm's PBX sends a few requests per call; this leaves room for bursts of calls
# and refuses floods (and token guessing) long before they cost the store anything.
REQUESTS_PER_SECOND = 20.0
BURST = 100


class RateLimit:
    """Allows `rate` requests a second on average, `burst` at once."""

    def __init__(
        self,
        rate: float = REQUESTS_PER_SECOND,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def allow(self) -> bool:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def check(self) -> None:
        """Raises 429 when over the limit."""
        if not self.allow():
            raise HTTPException(status_code=429, headers={"Retry-After": "1"})
