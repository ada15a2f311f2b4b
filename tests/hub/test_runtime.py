"""Supervision, /healthz and a whole Kartei started and stopped in one event loop."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from hub.bootstrap import bootstrap, run
from hub.events.tasks import TaskOpened
from hub.health import HealthRegistry
from hub.runtime import Supervisor
from hub.settings import settings_from_dict
from hub.store import NO_STREAM


class Flaky:
    """Crashes twice, then runs until cancelled."""

    name = "flaky"

    def __init__(self) -> None:
        self.starts = 0
        self.running = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        if self.starts <= 2:
            raise ConnectionError(f"boom {self.starts}")
        self.running.set()
        await asyncio.Event().wait()


async def test_crashing_component_is_restarted_without_stopping_others() -> None:
    health = HealthRegistry()
    flaky = Flaky()
    steady_ran = asyncio.Event()

    class Steady:
        name = "steady"

        async def run(self) -> None:
            steady_ran.set()
            await asyncio.Event().wait()

    supervisor = Supervisor(health, initial_backoff=0.01, max_backoff=0.05)
    task = asyncio.create_task(supervisor.run([flaky, Steady()]))
    async with asyncio.timeout(5):
        await flaky.running.wait()
        await steady_ran.wait()
    assert health.component("flaky").restarts == 2
    assert "boom 2" in (health.component("flaky").last_error or "")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert health.component("steady").state == "stopped"


async def test_a_database_restart_is_one_warning_a_bug_a_traceback(caplog) -> None:  # type: ignore[no-untyped-def]
    # During a PostgreSQL restart every component fails at once; 14 tracebacks in the log
    # for an expected outage hid real faults. A bug keeps its traceback.
    import psycopg

    class Failing:
        def __init__(self, name: str, error: Exception) -> None:
            self.name, self.error, self.failed = name, error, asyncio.Event()

        async def run(self) -> None:
            if not self.failed.is_set():
                self.failed.set()
                raise self.error
            await asyncio.Event().wait()

    away = Failing(
        "projection:x", psycopg.OperationalError("the database system is shutting down\nSQL: ...")
    )
    bug = Failing("policy:y", KeyError("no such thing"))
    supervisor = Supervisor(HealthRegistry(), initial_backoff=0.01, max_backoff=0.05)
    caplog.set_level("INFO", logger="hub.runtime")
    task = asyncio.create_task(supervisor.run([away, bug]))
    async with asyncio.timeout(5):
        await away.failed.wait()
        await bug.failed.wait()
        await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    (quiet,) = [r for r in caplog.records if "projection:x" in r.getMessage()]
    assert quiet.levelname == "WARNING" and quiet.exc_info is None
    assert "shutting down" in quiet.getMessage() and "SQL" not in quiet.getMessage()
    (loud,) = [r for r in caplog.records if "policy:y" in r.getMessage()]
    assert loud.levelname == "ERROR" and loud.exc_info is not None


async def test_kartei_runs_serves_healthz_and_stops(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "database": {"url": database_url},
            "web": {"port": 0},
        }
    )
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop))
    assert kartei.web is not None
    async with asyncio.timeout(20):
        await kartei.web.ready.wait()
        position = (
            await kartei.store.append("task-1", NO_STREAM, [TaskOpened(task_id="1", title="t")])
        ).positions[0]
        await kartei.projections["tasks"].wait_for(position)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{kartei.web.bound_port}"
        ) as client:
            response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["projection:tasks"]["state"] == "ok"
    assert body["components"]["store"]["details"]["database"] in ("sqlite", "postgresql")
    stop.set()
    async with asyncio.timeout(10):
        await running
