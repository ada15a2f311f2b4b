"""The morning's first look: the dashboard lists the missed calls of the last days that
nobody has seen or called back, each with the caller's name linked to the card (an
unknown caller: the number, and the way to make them a contact), on both databases.

Regression: the dashboard read only the calls since midnight, and its call lines showed
the raw number, never who called.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.events import NewEvent
from hub.events.calls import MissedCallSeen
from hub.store import ANY, EventStore
from tests.web.conftest import Web
from tests.web.events import T0, call
from tests.web.test_pages import contact

BERLIN = ZoneInfo("Europe/Berlin")  # the firm's time zone (settings.kartei.timezone)


def minutes(at: datetime) -> int:
    """`call(..., minutes=...)` for a call that rang at `at`."""
    return int((at - T0).total_seconds() // 60)


def row_of(page: str, stream: str) -> str:
    found = re.search(rf'<tr[^>]*data-call="{stream}"[^>]*>.*?</tr>', page, re.S)
    assert found is not None, f"{stream} not listed:\n{page}"
    return found.group(0)


async def seen(store: EventStore, stream: str) -> None:
    call_id = stream.removeprefix("call-test-")
    event = MissedCallSeen(call_id=call_id, source="test", by="sw")
    await store.append(stream, ANY, [NewEvent(event)])


async def test_missed_calls_of_earlier_days_with_names(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)  # Erika Muster, +49 30 123456
    now = datetime.now(BERLIN)
    evening = (now - timedelta(days=1)).replace(hour=18, minute=12, second=0, microsecond=0)
    known = await call(store, "+4930123456", answered=False, minutes=minutes(evening))
    stranger = await call(store, "+4940999999", answered=False, minutes=minutes(evening) + 9)
    too_old = await call(store, "+4940888888", answered=False, minutes=minutes(now) - 8 * 1440)
    marked = await call(store, "+4940777777", answered=False, minutes=minutes(evening) - 60)
    await seen(store, marked)
    # Missed two days ago, then they rang again and somebody answered: nothing owed.
    settled = await call(store, "+4940666666", answered=False, minutes=minutes(evening) - 1440)
    await call(store, "+4940666666", minutes=minutes(evening) - 1000)
    await call(store, "+4930123456", answered=False, minutes=minutes(now))
    await web.settle()

    board = (await http.get("/")).text
    row = row_of(board, known)
    assert f'<a href="/contacts/{cid}">Erika Muster</a>' in row
    assert "verpasst" in row and f"{evening:%d.%m.%Y} 18:12" in row
    row = row_of(board, stranger)
    assert "040 999999" in row and "+4940999999" not in row  # written as people write it
    assert 'href="/contacts/new?phone=%2B4940999999"' in row and "Kontakt anlegen" in row
    for gone in (too_old, marked, settled):
        assert f'data-call="{gone}"' not in board, gone
    # Today's calls name their caller too.
    entry = re.search(r'<li class="entry kind-call[^"]*".*?</li>', board, re.S)
    assert entry is not None
    assert f'<a href="/contacts/{cid}">Erika Muster</a>' in entry.group(0)
    assert "030 123456" in entry.group(0)

    # Marked seen from the dashboard: gone from it, and the dashboard stays.
    done = await http.post("/calls/seen", data={"call": [stranger], "csrf": csrf, "back": "/"})
    assert done.status_code == 303 and done.headers["location"] == "/"
    await web.settle()
    board = (await http.get("/")).text
    assert f'data-call="{stranger}"' not in board and f'data-call="{known}"' in board


async def test_the_dashboard_offers_the_calls_of_the_last_days(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    evening = (datetime.now(BERLIN) - timedelta(days=1)).replace(hour=18, minute=12)
    stream = await call(store, "+4940999999", answered=False, minutes=minutes(evening))
    await web.settle()
    board = (await http.get("/")).text
    section = board[board.index('class="missed-calls"') :]
    link = re.search(r'<a[^>]*href="(/calls[^"]*)"', section)
    assert link is not None
    calls = (await http.get(link.group(1).replace("&amp;", "&"))).text
    assert f'name="call" value="{stream}"' in calls  # yesterday's call can be marked seen there
    await http.post("/settings", data={"language": "en", "csrf": csrf})
    board = (await http.get("/")).text
    assert "missed" in row_of(board, stream) and "Create contact" in row_of(board, stream)
