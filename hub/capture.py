"""The hub's side of capture: what an adapter may do, and what it must provide."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from hub.events import Event, Metadata, NewEvent
from hub.health import ComponentHealth
from hub.store import ANY, AppendResult, EventStore, Transaction


class Capture:
    """Records what an adapter saw, exactly once, and lets it report its health.

    Adapters receive this, never the store: they can append facts under idempotency
    keys (an upstream id: Message-ID, call id, IMAP UID) and keep their own checkpoints
    in the same transaction, but cannot read or rewrite anything else.
    """

    def __init__(self, store: EventStore, source: str, health: ComponentHealth) -> None:
        self._store = store
        self.source = source
        self.health = health

    async def record(
        self,
        stream: str,
        events: Sequence[Event] | Event,
        *,
        key: str | None = None,
        actor: str | None = None,
    ) -> AppendResult:
        """Appends events to `stream`; with a key, a repeat appends nothing.

        With several events, the i-th gets the key ``f"{key}#{i}"``.
        """
        batch = [events] if isinstance(events, Event) else list(events)
        return await self._store.append(stream, ANY, self.keyed(batch, key, actor))

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Transaction]:
        """Appends plus the adapter's own checkpoint rows, committed together
        (`durable=False`: see `EventStore.transaction`)."""
        async with self._store.transaction(durable=durable) as tx:
            yield tx

    def keyed(
        self, events: Sequence[Event], key: str | None, actor: str | None = None
    ) -> list[NewEvent]:
        meta = Metadata(source=self.source, actor=actor)
        if key is None or len(events) == 1:
            return [NewEvent(e, key, meta) for e in events]
        return [NewEvent(e, f"{key}#{i}", meta) for i, e in enumerate(events)]


class Adapter(Protocol):
    """A connection to one outside system (a mailbox, a phone system, a fax intake).

    `run` works until cancelled; raising means the adapter failed, and the supervisor
    logs it and restarts it with backoff. One coroutine per adapter, so no task is ever
    left running unseen.

    Where several Kartei processes share one database, an adapter may say how many of them
    run it with a class attribute `lease_scope`: "deployment" (the default: one process
    at a time, e.g. a mailbox or a call monitor connection), "host" (one per machine: a
    listening port), or None (every process that serves the web: a webhook endpoint).
    """

    name: str

    async def run(self, capture: Capture) -> None: ...
