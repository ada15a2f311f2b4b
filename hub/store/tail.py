"""The newest events, read once per wake-up and shared by every live reader in the process.

Without it, each projection, policy and browser connection following the log would run
its own query after every append: a dozen readers queue for the database at the moment
the screen pop needs its event. The tail reads what is new once; readers that are caught
up take their events from memory, readers further behind read from the database. Events
this process commits are offered to it as they are (`offer`), so it does not read and
unseal them again; only other processes' events are decoded from their rows.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from hub.events import Recorded

if TYPE_CHECKING:
    from hub.store.store import EventStore

READ_BATCH = 1000
ERASED = "ContactErased"  # hub.events.privacy: a process erased a person's keys


class Tail:
    """Every event after `start` up to the newest one seen, at most about `size` of them."""

    def __init__(self, store: EventStore, size: int = 5000) -> None:
        self._store = store
        self._size = size
        self._events: list[Recorded] = []
        self._positions: list[int] = []
        self._start: int | None = None
        self._last = 0
        self._generation = -1
        self._lock = asyncio.Lock()
        self._fresh: dict[int, Recorded] = {}  # committed here, not yet taken in

    def offer(self, records: Sequence[Recorded]) -> None:
        """Events this process has just committed, as they read back (see `_recorded` in
        hub.store.store): the next refresh takes them instead of decoding their rows."""
        if self._start is None:
            return  # nobody follows the log yet
        if len(self._fresh) > self._size:  # nobody has read for a long while: let go
            self._fresh.clear()
        for r in records:
            if r.position > self._last:
                self._fresh[r.position] = r

    def forget(self) -> None:
        """Lets go of every event held: after an erasure, what they hold in the clear must
        not be served again; readers behind read (and decode) from the database."""
        self._events.clear()
        self._positions.clear()
        self._fresh.clear()
        if self._start is not None:
            self._start = self._last

    async def after(
        self,
        position: int,
        limit: int,
        types: Collection[str] | None,
        stream_prefix: str | None = None,
    ) -> list[Recorded] | None:
        """Events after `position` (None when they are older than what the tail holds),
        optionally only of some types and streams."""
        await self._refresh()
        if self._start is None or position < self._start:
            return None
        found: list[Recorded] = []
        start = bisect.bisect_right(self._positions, position)
        for r in itertools.islice(self._events, start, None):
            if (types is None or r.type_name in types) and (
                stream_prefix is None or r.stream.startswith(stream_prefix)
            ):
                found.append(r)
                if len(found) == limit:
                    break
        return found

    async def _refresh(self) -> None:
        generation = self._store.notifier.generation
        if generation == self._generation:
            return
        async with self._lock:
            if self._generation >= generation:
                return  # another reader refreshed while this one waited for the lock
            if self._start is None:
                self._start = self._last = await self._store.head()
            else:
                erased_elsewhere = False
                while batch := await self._store.read_after(self._last, READ_BATCH, self._fresh):
                    self._events.extend(batch)
                    self._positions.extend(r.position for r in batch)
                    self._last = batch[-1].position
                    erased_elsewhere |= any(
                        r.type_name == ERASED and r.position not in self._fresh for r in batch
                    )
                    if len(batch) < READ_BATCH:
                        break
                self._fresh = {p: r for p, r in self._fresh.items() if p > self._last}
                self._trim()
                if erased_elsewhere:
                    # Another process erased someone: keys cached here may be gone, and what
                    # was decoded with them must not be served again.
                    self._store.keys.clear()
                    self.forget()
            self._generation = generation

    def _trim(self) -> None:
        excess = len(self._events) - self._size
        if excess > self._size // 2:
            self._start = self._positions[excess - 1]
            del self._events[:excess]
            del self._positions[:excess]
