"""A browser whose pop stream breaks before its first pop (Kartei killed and restarted)
still gets the rings of the gap: the stream's opening block carries the id it starts at,
which the browser sends back as Last-Event-ID. Found by bench/soak.py: rings committed
while the clients reconnected never popped."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from hub.events import NewEvent
from hub.store import Database, EventStore
from tests.web.conftest import login
from tests.web.live import running
from tests.web.test_db_unavailable import PrivatePostgres, private_pg  # noqa: F401 (fixture)
from tests.web.test_sse import read_pops, ring


async def test_a_stream_lost_before_its_first_pop_resumes_without_a_gap(
    store: EventStore, tmp_path: Path
) -> None:
    async with (
        running(store, tmp_path) as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=10) as http,
    ):
        await login(http, "anna")
        async with http.stream("GET", "/pop/stream") as response, asyncio.timeout(10):
            lines = response.aiter_lines()
            opening = [await anext(lines) for _ in range(3)]
        assert opening[0] == "retry: 1000" and opening[2] == ""
        assert opening[1] == f"id: {await store.head()}"  # what EventSource remembers
        # While the browser is away, the phone rings.
        await store.append("call-t-g", 0, [NewEvent(ring("g", "111"))])
        headers = {"Last-Event-ID": opening[1].removeprefix("id: ")}
        async with http.stream("GET", "/pop/stream", headers=headers) as response:
            [pop] = await read_pops(response.aiter_lines(), 1)
        assert pop["type"] == "ring" and pop["call"] == "call-t-g"


async def test_a_page_reopening_a_closed_stream_resumes_after_what_it_saw(
    store: EventStore, tmp_path: Path
) -> None:
    """A page whose EventSource was closed for good (a 502 or 503 while Kartei restarted)
    opens a new one with the last id it saw as `after`, having no Last-Event-ID to send;
    `hello` tells it the id its stream starts at, even before the first pop."""
    async with (
        running(store, tmp_path) as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=10) as http,
    ):
        await login(http, "anna")
        async with http.stream("GET", "/pop/stream?hello=1") as response, asyncio.timeout(10):
            lines = response.aiter_lines()
            opening = [await anext(lines) for _ in range(6)]
        start = await store.head()
        assert opening == ["retry: 1000", f"id: {start}", "", "event: hello", "data: {}", ""]
        await store.append("call-t-h", 0, [NewEvent(ring("h", "111"))])
        async with http.stream("GET", f"/pop/stream?after={start}") as response:
            [pop] = await read_pops(response.aiter_lines(), 1)
        assert pop["type"] == "ring" and pop["call"] == "call-t-h"


async def test_the_pop_goes_on_after_its_postgresql_restarted(
    private_pg: PrivatePostgres,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The pop's one subscription fails when PostgreSQL restarts under calls (a read in
    flight); it takes up again after the last call event it published, and the open
    stream goes on. Before, the subscription ended with the database's error and the open
    stream got no pop again."""
    store = EventStore(Database(private_pg.url))
    await store.start()
    rung: list[str] = []

    async def calls(until: asyncio.Event) -> None:
        """A ring every 20 ms, the pop busy reading, until the server goes away."""
        while not until.is_set():
            call = f"call-t-{len(rung)}"
            with contextlib.suppress(Exception):
                await store.append(call, 0, [NewEvent(ring(str(len(rung)), "111"))])
                rung.append(call)
            await asyncio.sleep(0.02)

    try:
        async with (
            running(store, tmp_path) as live,
            httpx.AsyncClient(base_url=live.base_url, timeout=None) as http,
        ):
            await login(http, "anna")
            async with http.stream("GET", "/pop/stream") as response:
                lines = response.aiter_lines()
                until = asyncio.Event()
                ringing = asyncio.create_task(calls(until))
                await read_pops(lines, 5)
                await asyncio.to_thread(private_pg.ctl, "restart")
                until.set()
                await ringing
                async with asyncio.timeout(30):
                    while True:  # the store's pool finds the server back
                        try:
                            await store.append("call-t-last", 0, [NewEvent(ring("x", "111"))])
                            break
                        except Exception:  # the first tries may meet a dead connection
                            await asyncio.sleep(0.2)
                pops: list[dict[str, object]] = []
                with contextlib.suppress(TimeoutError):
                    while not pops or pops[-1]["call"] != "call-t-last":
                        pops += await read_pops(lines, 1)
                assert [p["call"] for p in pops][-1:] == ["call-t-last"], len(pops)
                # And the next call, a while later, pops too.
                await asyncio.sleep(2)
                await store.append("call-t-next", 0, [NewEvent(ring("y", "111"))])
                with contextlib.suppress(TimeoutError):
                    pops = await read_pops(lines, 1)
                assert pops[-1]["call"] == "call-t-next"
    finally:
        await store.close()
