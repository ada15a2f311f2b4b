"""Waiting for a running Kartei: until its read models and policies have read the whole log,
or until an adapter has recorded what was sent to it. Callers bound the wait (a timeout)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from hub.bootstrap import Kartei
from hub.projection import ProjectionRunner
from hub.store import EventStore

POLL_SECONDS = 0.05


async def caught_up(kartei: Kartei) -> None:
    """Returns once no projection or policy has an event left to read.

    A policy's reactions are events too, so this also waits for what the classifier,
    the churn rule and the call-back policy append, and for the read models of those.
    """
    runners: list[ProjectionRunner] = [*kartei.projections.values(), *kartei.policies.values()]
    while pending := await _pending(kartei.store, runners):
        for runner, position in pending:
            await runner.wait_for(position)


async def recorded(
    store: EventStore, types: Collection[str], stream_prefix: str, count: int
) -> None:
    """Returns once the log holds `count` events of `types` on streams starting so."""
    while await _count(store, types, stream_prefix) < count:  # noqa: ASYNC110 - a poll under a timeout
        await asyncio.sleep(POLL_SECONDS)


def lagging(kartei: Kartei) -> dict[str, str]:
    """What is not running as it should, and why (for the error when a wait timed out)."""
    return {
        name: f"{state['state']}: {state.get('last_error') or ''}".rstrip(": ")
        for name, state in kartei.health.snapshot()["components"].items()
        if state["state"] not in ("ok", "off")
    }


async def _pending(
    store: EventStore, runners: list[ProjectionRunner]
) -> list[tuple[ProjectionRunner, int]]:
    """Each runner with the first event of its types it has not read yet."""
    pending = []
    for runner in runners:
        found = await store.read_all(runner.position, 1, types=runner.projection.event_types)
        if found:
            pending.append((runner, found[0].position))
    return pending


async def _count(store: EventStore, types: Collection[str], stream_prefix: str) -> int:
    found, after = 0, 0
    while batch := await store.read_all(after, 1000, types=types, stream_prefix=stream_prefix):
        found += len(batch)
        after = batch[-1].position
    return found
