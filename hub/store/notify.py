"""Live delivery: wake readers when the log grows, in-process and across processes."""

from __future__ import annotations

import asyncio
import logging

import psycopg

log = logging.getLogger(__name__)


class Notifier:
    """A generation counter readers wait on: capture it, read, then wait for a change.

    Capturing the generation before reading means a commit between the read and the
    wait cannot be missed.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.generation += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, generation: int) -> None:
        while self.generation == generation:
            await self._changed.wait()


class PostgresListener:
    """LISTEN for the `events_notify` trigger's notifications and bump the notifier."""

    CHANNEL = "kartei_events"

    def __init__(self, conninfo: str, schema: str, notifier: Notifier) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._notifier = notifier
        self.ready = asyncio.Event()

    async def run(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {self.CHANNEL}")
                    self.ready.set()
                    # Whatever committed while we were not listening is picked up now.
                    self._notifier.bump()
                    delay = 0.5
                    async for note in conn.notifies():
                        if note.payload == self._schema:
                            self._notifier.bump()
            except psycopg.OperationalError as err:
                self.ready.clear()
                log.warning("event notifications lost (%s); reconnecting in %.1fs", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
