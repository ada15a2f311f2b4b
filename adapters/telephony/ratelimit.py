"""Token buckets for the HTTP endpoints: strangers can reach them, so they are limited."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import HTTPException

# A small firm's PBX sends a few requests per call; this leaves room for bursts of calls
# and refuses floods (and token guessing) long before they cost the store anything.
REQUESTS_PER_SECOND = 20.0
BURST = 100
# All clients together: a few PBXs and cloud providers (sipgate sends from several
# addresses) at their own limits, no more.
TOTAL_REQUESTS_PER_SECOND = 100.0
TOTAL_BURST = 500
MAX_CLIENTS = 4096


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


class ClientRateLimit:
    """A token bucket per client address, under one bucket for all clients together.

    One client flooding (or guessing tokens) is refused without shutting out the PBX;
    many clients together still cannot pass the global cap. IPv6 clients count per /64,
    the block one host gets; the least recently seen clients are forgotten past
    `max_clients` (the global cap holds against one who cycles through addresses).
    """

    def __init__(
        self,
        rate: float = REQUESTS_PER_SECOND,
        burst: int = BURST,
        *,
        total_rate: float = TOTAL_REQUESTS_PER_SECOND,
        total_burst: int = TOTAL_BURST,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self.total = RateLimit(total_rate, total_burst, clock)
        self._clients: OrderedDict[str, RateLimit] = OrderedDict()

    def allow(self, client: str | None) -> bool:
        key = client_key(client)
        bucket = self._clients.get(key)
        if bucket is None:
            bucket = self._clients[key] = RateLimit(self.rate, self.burst, self.clock)
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return bucket.allow() and self.total.allow()

    def check(self, client: str | None) -> None:
        """Raises 429 when this client, or all clients together, are over the limit."""
        if not self.allow(client):
            raise HTTPException(status_code=429, headers={"Retry-After": "1"})


def client_key(host: str | None) -> str:
    """The address a client is counted under: IPv4 as is, IPv6 by its /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 client
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
