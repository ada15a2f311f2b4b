"""The SMTP intake stops while a delivery waits for its commit: the sender hears 451.

The intake stops when Kartei does, or when its lease is lost (the database's disk full,
the database gone). A sender whose message was not committed by then is told to try
again at once, instead of waiting for an answer that never comes until its own timeout
(minutes, for a mail server). Here the commit waits because another connection holds the
database's write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

from adapters.mail.pipeline import MailIntake
from adapters.mail.smtp import IntakeRules
from hub.store import EventStore
from tests.mail import messages
from tests.mail.test_smtp import JOURNAL, send, start


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Another connection holds the lock an append needs, until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(database_url) as pg:
        pg.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        yield
        pg.rollback()


async def test_deliveries_waiting_when_the_intake_stops_are_answered_451(
    store: EventStore, intake: MailIntake, database_url: str
) -> None:
    rules = IntakeRules.of([JOURNAL], ["127.0.0.0/8"], 2_000_000)
    adapter, task = await start(store, intake, rules)
    assert adapter.bound_port is not None and adapter.handler is not None
    deliveries = adapter.handler.deliveries
    port = adapter.bound_port

    def deliver(n: int) -> asyncio.Task[tuple[int, bytes]]:
        raw = messages.simple(n).replace(b"\n", b"\r\n")
        return asyncio.create_task(asyncio.to_thread(send, port, raw))

    with writes_blocked(database_url):
        first = deliver(1)  # its commit waits for the lock
        await until(lambda: deliveries.groups == 1)
        second = deliver(2)  # prepared, it waits for the next commit
        await until(lambda: deliveries._prepared.qsize() == 1)
        task.cancel()  # the intake stops
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5):  # at once, not at the senders' timeout
            answers = [code for code, _ in await asyncio.gather(first, second)]
    assert answers == [451, 451]


async def until(check, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.01)
