"""The call list: missed calls first, several marked seen at once, each one event."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hub.events.calls import MissedCallSeen
from hub.store import EventStore
from tests.web.conftest import Web
from tests.web.events import T0, call
from tests.web.test_pages import contact


def checkboxes(html: str) -> list[str]:
    return re.findall(r'name="call" value="([^"]+)"', html)


def today() -> int:
    """Minutes from the fixtures' T0 to now: `call(..., minutes=today())` rang today (the
    list goes by when a call rang, not when Kartei recorded it)."""
    return int((datetime.now(UTC) - T0).total_seconds() // 60)


async def test_missed_calls_marked_seen_in_bulk(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    await contact(store)
    now = today()
    first = await call(store, "+4930123456", answered=False, minutes=now)
    second = await call(store, "+4940999999", answered=False, caller_name="Fremd", minutes=now)
    third = await call(store, "+4940888888", answered=False, minutes=now)
    answered = await call(store, "+4930123456", minutes=now)
    await web.settle()
    page = await http.get("/calls")
    assert page.status_code == 200
    assert sorted(checkboxes(page.text)) == sorted([first, second, third])
    assert "Erika Muster" in page.text and "Fremd" in page.text
    assert page.text.index(first) < page.text.index(f'data-call="{answered}"')
    # An answered call and an unknown stream are ignored; a seen call is not seen twice.
    marked = await http.post(
        "/calls/seen",
        data={"call": [first, second, answered, "call-nope"], "csrf": csrf, "back": "/"},
    )
    assert marked.status_code == 303 and marked.headers["location"] == "/"
    for stream, seen in ((first, True), (second, True), (third, False), (answered, False)):
        events = [r.event for r in await store.read_stream(stream)]
        found = [e for e in events if isinstance(e, MissedCallSeen)]
        assert len(found) == seen, stream
        assert all(e.by == "anna" for e in found)
    await web.settle()
    page = await http.get("/calls")
    assert checkboxes(page.text) == [third]
    assert page.text.count("gesehen von anna") == 2
    again = await http.post("/calls/seen", data={"call": [first, third], "csrf": csrf})
    assert again.status_code == 303 and again.headers["location"] == "/calls"
    seen = await store.read_all(0, 1000, types=("MissedCallSeen",))
    assert sorted(r.stream for r in seen) == sorted([first, second, third])


async def test_marking_seen_needs_the_csrf_token(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    stream = await call(store, "+4930123456", answered=False, minutes=today())
    await web.settle()
    refused = await http.post("/calls/seen", data={"call": [stream]})
    assert refused.status_code == 403
    assert await store.read_all(0, 100, types=("MissedCallSeen",)) == []


async def test_call_list_periods_and_english(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    await call(store, "+4930123456", answered=False, minutes=today())
    await web.settle()
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    for days in (1, 7, 30, 999, -1):
        page = await http.get("/calls", params={"days": days})
        assert page.status_code == 200
        assert "Mark selected missed calls seen" in page.text
    assert "Calls" in (await http.get("/")).text
