"""Tasks with a due date on the task lists, the card and the dashboard, over HTTP on both
databases: a day chosen on a card ("Fällig") and the churn policy's kind-letter task.

Regression: any open task with a due date made /tasks answer a bare 500 on SQLite (a naive
datetime read back, compared with an aware one), and a due day showed as "10.12.2026 01:00".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.events import Metadata, NewEvent
from hub.events.classification import MessageClassified
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskOpened
from hub.policy import PolicyRunner
from hub.store import EventStore
from policies.churn import TITLES, ChurnPolicy
from tests.web.conftest import Web
from tests.web.test_pages import contact

BERLIN = ZoneInfo("Europe/Berlin")  # the settings' default time zone
LISTS = ("/tasks", "/tasks?scope=team")


def today() -> date:
    return datetime.now(BERLIN).date()


def german(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def task_row(html: str, title: str) -> str:
    """The task list's row of the task with this title."""
    rows = re.findall(r'<tr class="task".*?</tr>', html, re.S)
    found = [row for row in rows if title in row]
    assert len(found) == 1, (title, html)
    return found[0]


async def test_due_days_from_the_card(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    days = {
        "Angebot nachfassen": today() + timedelta(days=3),
        "Heute anrufen": today(),
        "Rechnung prüfen": today() - timedelta(days=1),
    }
    for title, day in days.items():
        form = {"title": title, "due": day.isoformat(), "csrf": csrf}
        answer = await http.post(f"/contacts/{cid}/tasks", data=form)
        assert answer.status_code == 303
    await web.settle()
    for url in LISTS:
        page = await http.get(url)
        assert page.status_code == 200, page.text
        for title, day in days.items():
            row = task_row(page.text, title)
            # A day, shown as a day: no time of day (it was "10.12.2026 01:00").
            assert f"{german(day)}<" in row or f"{german(day)} <" in row, row
            assert not re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", row), row
        # A day is due until its end: only yesterday's task is overdue.
        assert "überfällig" in task_row(page.text, "Rechnung prüfen")
        assert "überfällig" not in task_row(page.text, "Heute anrufen")
        assert "überfällig" not in task_row(page.text, "Angebot nachfassen")
    # Most urgent first.
    titles = re.findall(r'<td class="title">([^<\n]+)', (await http.get("/tasks")).text)
    assert [t.strip() for t in titles] == ["Rechnung prüfen", "Heute anrufen", "Angebot nachfassen"]
    card = (await http.get(f"/contacts/{cid}")).text
    assert german(days["Angebot nachfassen"]) in card
    assert f"{german(days['Angebot nachfassen'])} 0" not in card
    board = await http.get("/")
    assert board.status_code == 200
    assert german(days["Heute anrufen"]) in board.text


async def complained(store: EventStore, cid: str, n: int) -> None:
    """`n` notes of what the customer said, classified as complaints the way the classifier
    policy records them (policies/classifier/policy.py)."""
    for i in range(n):
        note = NoteAdded(note_id=f"n{i}", contact_id=cid, text="Schon wieder zu spät!", by="anna")
        done = await store.append(f"contact-{cid}", None, [NewEvent(note)])
        [r] = await store.read_all(done.positions[-1] - 1, 1)
        event = MessageClassified(
            message_position=r.position,
            message_stream=r.stream,
            message_type=r.type_name,
            label="complaint",
            confidence=0.93,
            model="test",
            model_version="1",
            contact_id=cid,
            message_at=r.recorded_at,
        )
        meta = Metadata(source="classifier", causation_id=str(r.position))
        key = f"classifier:1:{r.position}"
        await store.append(f"classification-{r.position}", None, [NewEvent(event, key, meta)])


async def test_the_churn_policys_kind_letter_task(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await contact(store)
    await complained(store, cid, 3)
    churn = PolicyRunner(store, ChurnPolicy(store, default_owner="anna"))
    await churn.prepare()
    await churn.catch_up()
    [opened] = await store.read_all(0, 1000, types=("TaskOpened",))
    assert isinstance(opened.event, TaskOpened) and opened.event.due is not None
    shown = opened.event.due.astimezone(BERLIN)
    await web.settle()
    for url in LISTS:
        page = await http.get(url)
        assert page.status_code == 200, page.text
        row = task_row(page.text, TITLES["de"])
        # A moment, shown in the firm's time zone on both databases.
        assert f"{shown:%d.%m.%Y %H:%M}" in row, row
        assert "überfällig" not in row
    board = (await http.get("/")).text
    assert f"{shown:%d.%m.%Y %H:%M}" in board


async def test_timed_due_dates_in_the_firms_time_zone(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    due = {
        "Rückruf vor dem Mittag": datetime(2031, 12, 10, 11, 30, tzinfo=BERLIN),
        "Gestern fällig": datetime.now(UTC) - timedelta(hours=1),
    }
    for i, (title, moment) in enumerate(due.items()):
        task = TaskOpened(task_id=f"t{i}", title=title, kind="follow_up", due=moment)
        await store.append(f"task-t{i}", 0, [NewEvent(task)])
    await web.settle()
    page = await http.get("/tasks?scope=team")
    assert page.status_code == 200, page.text
    later = task_row(page.text, "Rückruf vor dem Mittag")
    assert "10.12.2031 11:30" in later and "überfällig" not in later
    assert "überfällig" in task_row(page.text, "Gestern fällig")
