"""Contact searches in the audit trail, one event per burst of lookups.

The navigation's suggestions ask once per keystroke, so "Ottilie" typed is six lookups.
A user's searches less than `quiet` seconds apart form one burst, recorded as one
`ContactsSearched` when the user pauses (or after `longest` seconds of searching): the
size of the last query, and every contact the burst returned. The query text is never
kept (hub/events/privacy.py says why). The page search and the JSON API go through the
same bursts, so an integration that pages through results is one event, not hundreds.

A burst not yet recorded lives in this process only; the audit page records the open
bursts before it reads the trail, and closing the web app records the rest. A crash
loses at most the last few seconds of searching, as an unsynced audit append would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hub.events.privacy import ContactsSearched
from hub.privacy.audit import record
from hub.store import EventStore

log = logging.getLogger(__name__)
QUIET_SECONDS = 5.0  # a pause this long ends a burst (typing pauses are shorter)
LONGEST_SECONDS = 60.0  # and a burst never waits longer than this to be recorded
MAX_FOUND = 1000  # contacts named in one event; the rest of a burst is a new event


@dataclass(slots=True)
class Burst:
    """One user's searches in quick succession, not yet recorded."""

    started: float
    last: float
    words: int = 0
    characters: int = 0
    found: dict[str, None] = field(default_factory=dict)  # ordered, each id once

    def due(self, quiet: float, longest: float) -> float:
        return min(self.last + quiet, self.started + longest)

    def event(self, by: str) -> ContactsSearched:
        found = tuple(self.found)
        return ContactsSearched(by=by, words=self.words, characters=self.characters, found=found)


class ContactSearches:
    """The searches of one process, each user's bursts recorded once."""

    def __init__(
        self,
        store: EventStore,
        quiet: float = QUIET_SECONDS,
        longest: float = LONGEST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.quiet = quiet
        self.longest = longest
        self.clock = clock
        self._open: dict[str, Burst] = {}
        self._task: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()  # a burst taken out is in the trail before the next

    async def searched(self, by: str, query: str, found: Iterable[str]) -> None:
        """Notes one lookup: `by` typed `query` and was shown the contacts `found`."""
        now = self.clock()
        async with self._writing:
            burst = self._open.get(by)
            if burst is not None and (self._is_due(burst, now) or len(burst.found) >= MAX_FOUND):
                del self._open[by]
                await self._record(by, burst)
        burst = self._open.get(by)
        if burst is None:
            burst = self._open[by] = Burst(started=now, last=now)
        burst.last = now
        burst.words, burst.characters = len(query.split()), len(query)
        burst.found.update(dict.fromkeys(found))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow(), name="contact-searches")

    async def flush(self) -> None:
        """Records every open burst now (before the audit trail is read, and at close);
        returns once a burst being recorded meanwhile is in the trail too."""
        async with self._writing:
            while self._open:
                by, burst = self._open.popitem()
                await self._record(by, burst)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _follow(self) -> None:
        """Records each burst when it is due, for as long as any is open."""
        while self._open:
            due = min(b.due(self.quiet, self.longest) for b in self._open.values())
            await asyncio.sleep(max(0.0, due - self.clock()))
            now = self.clock()
            async with self._writing:
                for by, burst in list(self._open.items()):
                    if self._is_due(burst, now):
                        del self._open[by]
                        await self._record(by, burst)

    def _is_due(self, burst: Burst, now: float) -> bool:
        return burst.due(self.quiet, self.longest) <= now

    async def _record(self, by: str, burst: Burst) -> None:
        try:
            await record(self.store, burst.event(by), durable=False)
        except Exception:  # the database away: the searches of this burst stay unrecorded
            log.exception("recording %s's contact search failed", by)
