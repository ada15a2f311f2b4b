"""Two Kartei processes on one database: one owner per phone line, takeover when it stops.

Both are built from the same configuration with a FRITZ!Box call monitor (the protocol
peer from tests/telephony). Only one connects; the other stands by and connects once the
owner has stopped; every call is recorded once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from hub.bootstrap import Kartei, bootstrap, components, run
from hub.settings import Settings, settings_from_dict
from tests.telephony.conftest import of_type, wait_for_calls
from tests.telephony.peers import FritzBoxPeer


def configured(database_url: str, port: int) -> Settings:
    return settings_from_dict(
        {
            "database": {"url": database_url},
            "cluster": {"takeover_seconds": 2},
            "contacts": {"own_area_code": "30"},
            "telephony": {
                "webhook_token": "t" * 24,
                "fritzbox": [{"name": "office", "host": "127.0.0.1", "port": port}],
            },
        }
    )


@contextlib.asynccontextmanager
async def started(kartei: Kartei, roles: tuple[str, ...]) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run(kartei, stop, web=False, roles=roles))
    try:
        yield task
    finally:
        await stopped(task, stop)


async def stopped(task: asyncio.Task[None], stop: asyncio.Event | None = None) -> None:
    if stop is not None:
        stop.set()
    else:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)


async def until(check, seconds: float = 15) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - a poll under a timeout
            await asyncio.sleep(0.05)


def ring(n: int) -> list[str]:
    return [
        f"02.03.26 09:0{n}:00;RING;{n};55511{n};3012345;SIP0;",
        f"02.03.26 09:0{n}:09;DISCONNECT;{n};0;",
    ]


async def test_one_process_owns_the_call_monitor_the_other_takes_over(database_url: str) -> None:
    peer = FritzBoxPeer()
    await peer.start()
    first = bootstrap(configured(database_url, peer.port), policies=[])
    second = bootstrap(configured(database_url, peer.port), policies=[])
    line = "adapter:office"
    try:
        async with started(first, ("capture", "workers")) as owner:
            await peer.wait_connections(1)
            await until(lambda: first.health.component(line).state == "ok")
            async with started(second, ("capture",)):
                await until(lambda: second.health.component(line).state == "standby")
                holder = second.health.component(line).details["holder"]
                assert holder == first.leases.owner
                await peer.send(ring(1))
                await wait_for_calls(first.store, lambda e: len(e) == 2)
                assert len(peer.writers) == 1  # the standby never connected
                await stopped(owner)
                # The owner stopped and gave its lease back: the other connects and records.
                await peer.wait_connections(2)
                await until(lambda: second.health.component(line).state == "ok")
                await peer.send(ring(2))
                events = await wait_for_calls(second.store, lambda e: len(e) == 4)
        callers = [e.caller for e in of_type(events, "CallRinging")]  # type: ignore[attr-defined]
        assert callers == ["+4930555111", "+4930555112"]
    finally:
        await peer.close()


def test_roles_choose_the_components(tmp_path: Path) -> None:
    kartei = bootstrap(configured(f"sqlite:///{tmp_path}/kartei.db", 1012))

    def names(*roles: str) -> set[str]:
        return {c.name for c in components(kartei, roles=roles)}

    assert names("web") == {"web", "adapter:telephony-webhooks"}
    assert names("capture") == {"adapter:office"}
    workers = names("workers")
    assert {"projection:contacts", "policy:callbacks"} <= workers
    assert not any(n.startswith("adapter:") or n == "web" for n in workers)
    assert names("web", "capture", "workers") == names("web") | names("capture") | workers
