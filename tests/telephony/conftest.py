"""Helpers for telephony tests: run a driver against the real store, wait on the log."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hub.capture import Capture
from hub.events import Recorded
from hub.health import ComponentHealth
from hub.store import EventStore

CALL_TYPES = ("CallRinging", "CallPlaced", "CallAnswered", "CallEnded")


async def call_events(store: EventStore) -> list[Recorded]:
    """Every call event in the log, in order."""
    found: list[Recorded] = []
    after = 0
    while batch := await store.read_all(after, 1000, types=CALL_TYPES):
        found += batch
        after = batch[-1].position
    return found


async def wait_for_calls(
    store: EventStore, done: Callable[[list[Recorded]], bool], seconds: float = 20
) -> list[Recorded]:
    """Polls the log (under a timeout, never a bare sleep) until `done` holds."""
    async with asyncio.timeout(seconds):
        while True:
            events = await call_events(store)
            if done(events):
                return events
            await asyncio.sleep(0.05)


async def wait_for_head(store: EventStore, position: int, seconds: float = 60) -> None:
    """Polls the log's head (cheap) until it reaches `position`."""
    async with asyncio.timeout(seconds):
        while True:
            if await store.head() >= position:
                return
            await asyncio.sleep(0.05)


def of_type(events: list[Recorded], name: str) -> list[Any]:
    return [r.event for r in events if r.type_name == name]


@pytest.fixture
def capture(store: EventStore) -> Capture:
    return Capture(store, "telephony", ComponentHealth("adapter:telephony"))


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Awaitable[None]], asyncio.Task[None]]]:
    """Starts coroutines as tasks and cancels them at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    def start(coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        tasks.append(task)
        return task

    yield start
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
