"""A browser whose pop stream breaks before its first pop (Kartei killed and restarted)
still gets the rings of the gap: the stream's opening block carries the id it starts at,
which the browser sends back as Last-Event-ID. Found by bench/soak.py: rings committed
while the clients reconnected never popped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from hub.events import NewEvent
from hub.store import EventStore
from tests.web.conftest import login
from tests.web.live import running
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
