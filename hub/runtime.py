"""Supervision: every component runs in the one event loop, restarted with backoff on failure."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from hub.health import HealthRegistry
from hub.store.errors import database_away, first_line

log = logging.getLogger(__name__)


class Component(Protocol):
    """Something `kartei run` keeps running: an adapter, a projection, a policy, the web."""

    name: str

    async def run(self) -> None: ...


class Supervisor:
    """Runs components side by side; a crash is logged and the component restarted.

    Backoff doubles from `initial_backoff` up to `max_backoff` and starts over once a run
    has lasted longer than `max_backoff` (the component had recovered).
    """

    def __init__(
        self, health: HealthRegistry, *, initial_backoff: float = 1.0, max_backoff: float = 60.0
    ) -> None:
        self.health = health
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff

    async def run(self, components: Sequence[Component]) -> None:
        """Supervises all components until cancelled."""
        async with asyncio.TaskGroup() as group:
            for component in components:
                group.create_task(self.supervise(component), name=component.name)

    async def supervise(self, component: Component) -> None:
        health = self.health.component(component.name)
        delay = self.initial_backoff
        while True:
            started = time.monotonic()
            health.set("starting")
            try:
                await component.run()
            except asyncio.CancelledError:
                health.set("stopped")
                raise
            except Exception as err:
                if _stopping():
                    # Cancelled, and the component's cleanup failed (a lease it could not
                    # release on a full disk): the error is logged and the stop goes on;
                    # a restart here swallowed the stop and `kartei run` never exited.
                    log.warning("%s failed while stopping: %r", component.name, err)
                    health.set("stopped", error=f"{type(err).__name__}: {err}")
                    raise asyncio.CancelledError from err
                if time.monotonic() - started > self.max_backoff:
                    delay = self.initial_backoff
                if database_away(err):  # a PostgreSQL restart: expected, no traceback
                    log.warning(
                        "%s: database unavailable (%s); restarting in %.1fs",
                        component.name,
                        first_line(err),
                        delay,
                    )
                else:
                    log.exception("%s failed; restarting in %.1fs", component.name, delay)
                health.restarts += 1
                health.set("restarting", error=f"{type(err).__name__}: {err}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            else:
                health.set("stopped")
                return


def _stopping() -> bool:
    """Whether this task has been asked to stop (cancelled), whatever became of the
    CancelledError."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
