"""The screen pop stream over a real socket: Last-Event-ID resumes without loss or doubles,
also after a restart (a fresh hub with an empty buffer reads the missed pops from the log),
and each user gets only the lines they answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson

from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.calls import CallEnded, CallRinging
from hub.events.contacts import Phone
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
                assert response.headers["x-content-type-options"] == "nosniff"
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


async def read_messages(lines: AsyncIterator[str], count: int) -> list[tuple[int | None, dict]]:
    """The next `count` messages as (the SSE id line's value or None, data)."""
    found: list[tuple[int | None, dict]] = []
    event_id: int | None = None
    async with asyncio.timeout(10):
        while len(found) < count:
            line = await anext(lines)
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                found.append((event_id, orjson.loads(line[6:])))
            elif line == "":
                event_id = None
    return found


async def test_known_caller_name_first_then_the_card(store: EventStore, tmp_path: Path) -> None:
    """The name goes out before the card's details; only the last message carries the id,
    so a browser that resumes from the id it saw before the ring gets both again."""
    await ContactService(store).create(
        {"given_name": "Erika", "family_name": "Muster", "phones": (Phone(number="+4930555"),)}
    )
    async with running(store, tmp_path) as live:
        async with asyncio.timeout(10):
            await live.kartei.projections["identity"].wait_for(await store.head())
        before = await store.head()
        app = live.kartei.web.app  # type: ignore[union-attr]
        async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
            await login(http, "anna")
            async with http.stream("GET", "/pop/stream") as response:
                lines = response.aiter_lines()
                await anext(lines)  # retry: the stream is open
                await app.state.pop.start()
                done = await store.append("call-t-k", 0, [NewEvent(ring("k", "111"))])
                (first_id, name), (card_id, card) = await read_messages(lines, 2)
            position = done.positions[-1]
            assert first_id is None and name["type"] == "ring" and name["name"] == "Erika Muster"
            assert "recent" not in name
            assert card_id == position and card["type"] == "card" and card["call"] == "call-t-k"
            assert card["tasks"] == [] and card["risk"] is None
            # Resuming from before the ring: both again; from the ring: nothing of it.
            headers = {"Last-Event-ID": str(before)}
            async with http.stream("GET", "/pop/stream", headers=headers) as response:
                again = await read_messages(response.aiter_lines(), 2)
            assert [m["type"] for _, m in again] == ["ring", "card"]
            headers = {"Last-Event-ID": str(position)}
            async with http.stream("GET", "/pop/stream", headers=headers) as response:
                lines = response.aiter_lines()
                await store.append(
                    "call-t-k", None, [NewEvent(CallEnded(call_id="k", source="t", cause="missed"))]
                )
                [(_, ended)] = await read_messages(lines, 1)
            assert ended["type"] == "ended"


async def test_card_details_wait_for_the_name_on_every_stream() -> None:
    """The details' queries start once every open stream has been sent the name (or after
    NAME_FIRST_SECONDS); a stream reporting an older message does not count."""
    hub = PopHub(None)  # type: ignore[arg-type]  # pushing needs no store
    hub.listeners = 2
    ring = {"id": 7, "type": "ring", "call": "call-t-x", "line": "1", "contact_id": "c1"}
    hub._push(ring, partial=True)
    assert hub.buffer[-1]["wire"].startswith(b"event: pop\ndata: {")  # encoded once, no id
    hub.sent(0)
    hub.sent(1)
    assert not hub._all_sent.is_set()
    hub.sent(1)
    assert hub._all_sent.is_set()
    async with asyncio.timeout(1):
        await hub._name_sent()


async def test_a_caller_read_the_wrong_way_is_found_by_the_number_as_sent(
    store: EventStore, tmp_path: Path
) -> None:
    """A PBX sends "436641234567" (Austria, without "+"); read as a German number it was
    stored as +49 4366...; the pop still finds the Austrian customer by the digits sent."""
    await ContactService(store).create(
        {"given_name": "Sepp", "family_name": "Huber", "phones": (Phone(number="+436641234567"),)}
    )
    async with running(store, tmp_path) as live:
        async with asyncio.timeout(10):
            await live.kartei.projections["identity"].wait_for(await store.head())
        async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
            await login(http, "anna")
            async with http.stream("GET", "/pop/stream") as response:
                lines = response.aiter_lines()
                await anext(lines)  # retry: the stream is open
                call = CallRinging(
                    call_id="at", source="t", line="111",
                    caller="+49436641234567", caller_raw="436641234567",
                )  # fmt: skip
                await store.append("call-t-at", 0, [NewEvent(call)])
                (_, name), _ = await read_messages(lines, 2)
    assert name["name"] == "Sepp Huber" and name["contact_id"]
