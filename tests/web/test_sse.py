"""The screen pop stream over a real socket: Last-Event-ID resumes without loss or doubles,
also after a restart (a fresh hub with an empty buffer reads the missed pops from the log),
and each user gets only the lines they answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson

from hub.events import NewEvent
from hub.events.calls import CallEnded, CallRinging
from hub.store import EventStore
from hub.web.screenpop import PopHub
from tests.web.conftest import PASSWORD, login
from tests.web.live import running


async def read_pops(lines: AsyncIterator[str], count: int) -> list[dict[str, object]]:
    """The next `count` pops from an SSE line stream, each id matching its data."""
    pops: list[dict[str, object]] = []
    event_id = None
    async with asyncio.timeout(10):
        while len(pops) < count:
            line = await anext(lines)
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                pop = orjson.loads(line[6:])
                assert pop["id"] == event_id
                pops.append(pop)
    return pops


def ring(call_id: str, line: str) -> CallRinging:
    return CallRinging(
        call_id=call_id, source="t", line=line, caller="+4930555", caller_raw="030555"
    )


async def test_resume_after_restart_and_line_filter(store: EventStore, tmp_path: Path) -> None:
    async with running(store, tmp_path) as live:
        before = await store.head()
        await store.append("call-t-a", 0, [NewEvent(ring("a", "111"))])
        await store.append("call-t-b", 0, [NewEvent(ring("b", "222"))])
        await store.append(
            "call-t-a", None, [NewEvent(CallEnded(call_id="a", source="t", cause="missed"))]
        )
        app = live.kartei.web.app  # type: ignore[union-attr]
        await app.state.pop.close()
        app.state.pop = PopHub(live.kartei)  # a restarted server: nothing buffered
        await app.state.accounts.add("lisa", PASSWORD)
        await app.state.accounts.update("lisa", lines="111")
        async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
            await login(http, "lisa")
            headers = {"Last-Event-ID": str(before)}
            async with http.stream("GET", "/pop/stream", headers=headers) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                first = await read_pops(response.aiter_lines(), 2)
            assert [(p["type"], p["call"]) for p in first] == [
                ("ring", "call-t-a"),
                ("ended", "call-t-a"),
            ]  # line 222 is not Lisa's
            # Resuming after the ring gets only what came after it: no doubles.
            headers = {"Last-Event-ID": str(first[0]["id"])}
            async with http.stream("GET", "/pop/stream", headers=headers) as response:
                lines = response.aiter_lines()
                again = await read_pops(lines, 1)
                await store.append("call-t-c", 0, [NewEvent(ring("c", "111"))])
                live_pop = await read_pops(lines, 1)
            assert [p["type"] for p in again] == ["ended"]
            assert live_pop[0]["call"] == "call-t-c"
