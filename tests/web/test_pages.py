"""The pages over HTTP against the real app: card, notes, tasks, editing, email, search, API."""

from __future__ import annotations

import re

from hub.archive import Archive
from hub.contacts.service import ContactService
from hub.events.contacts import Phone
from hub.store import EventStore
from tests.web.conftest import Web
from tests.web.events import call, email


async def contact(store: EventStore) -> str:
    return await ContactService(store).create(
        {
            "given_name": "Erika",
            "family_name": "Muster",
            "company": "Muster GmbH",
            "customer_number": "K-1001",
            "emails": ("erika@kunde.example",),
            "phones": (Phone(number="+4930123456"),),
        }
    )


async def test_card_note_task_and_edit(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    await email(store, "erika@kunde.example", "Angebot <b>bitte</b>")
    await call(store, "+4930123456", answered=False)
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert page.status_code == 200
    assert "Muster GmbH" in page.text and "K-1001" in page.text
    assert "Angebot &lt;b&gt;bitte&lt;/b&gt;" in page.text
    assert "verpasst" in page.text
    note = await http.post(f"/contacts/{cid}/notes", data={"text": "Ruft morgen an", "csrf": csrf})
    assert note.status_code == 303
    task = await http.post(f"/contacts/{cid}/tasks", data={"title": "Angebot senden", "csrf": csrf})
    assert task.status_code == 303
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert "Ruft morgen an" in page.text and "Angebot senden" in page.text
    edited = await http.post(
        f"/contacts/{cid}/edit",
        data={
            "given_name": "Erika",
            "family_name": "Mustermann",
            "company": "Muster GmbH",
            "emails": "erika@kunde.example",
            "phones": "030 123456",
            "csrf": csrf,
        },
    )
    assert edited.status_code == 303
    await web.settle()
    assert "Erika Mustermann" in (await http.get(f"/contacts/{cid}")).text
    english = await http.post("/settings", data={"language": "en", "csrf": csrf})
    assert english.status_code == 303
    assert "missed" in (await http.get(f"/contacts/{cid}")).text


async def test_create_contact_and_search(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    made = await http.post(
        "/contacts",
        data={"company": "Dachdecker Kühn", "phones": "0171 2345678", "csrf": csrf},
    )
    assert made.status_code == 303
    await email(store, "x@y.example", "Dachrinne undicht")
    await web.settle()
    found = await http.get("/search", params={"q": "kühn"})
    assert "Dachdecker Kühn" in found.text
    by_subject = await http.get("/search", params={"q": "dachrinne"})
    assert "Dachrinne undicht" in by_subject.text
    assert "Nichts gefunden" in (await http.get("/search", params={"q": "zzzz"})).text


async def test_tasks_complete_assign_snooze(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    for title in ("Eins", "Zwei", "Drei"):
        await http.post("/tasks", data={"title": title, "csrf": csrf})
    await web.settle()
    page = await http.get("/tasks")
    ids = re.findall(r'data-task="([0-9a-f]+)"', page.text)
    assert len(ids) == 3
    await http.post(f"/tasks/{ids[0]}/complete", data={"csrf": csrf})
    await http.post(f"/tasks/{ids[1]}/snooze", data={"until": "1w", "csrf": csrf})
    await http.post(f"/tasks/{ids[2]}/assign", data={"assignee": "bernd", "csrf": csrf})
    await web.settle()
    mine = await http.get("/tasks")
    assert re.findall(r'data-task="([0-9a-f]+)"', mine.text) == []
    team = await http.get("/tasks?scope=team")
    assert re.findall(r'data-task="([0-9a-f]+)"', team.text) == [ids[2]]
    events = [r.type_name for r in await store.read_all(0, 100, stream_prefix="task-")]
    assert events.count("TaskCompleted") == 1 and events.count("TaskSnoozed") == 1
    assert (await http.post("/tasks/nope/complete", data={"csrf": csrf})).status_code == 404


async def test_email_html_is_sanitized_in_a_sandbox(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    archive = Archive(web.kartei.settings.data_dir / "archive")
    html = (
        b'<p onclick="alert(1)">Hallo<script>alert(2)</script></p>'
        b'<img src="https://tracker.example/pixel.gif"><a href="javascript:alert(3)">x</a>'
    )
    stream, _ = await email(store, "a@b.example", "HTML", html_ref=archive.put(html))
    view = await http.get(f"/messages/{stream}")
    assert 'sandbox=""' in view.text
    frame = await http.get(f"/messages/{stream}/html")
    assert "<script" not in frame.text and "onclick" not in frame.text
    assert "javascript:" not in frame.text
    assert "img-src data: cid:" in frame.headers["content-security-policy"]
    shown = await http.get(f"/messages/{stream}/html?images=1")
    assert "https:" in shown.headers["content-security-policy"]
    assert (await http.get("/messages/email-nope")).status_code == 404
    assert (await http.get("/messages/../etc/passwd")).status_code == 404


async def test_dashboard_and_json_api(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await contact(store)
    await call(store, "+4930123456", answered=False)
    await web.settle()
    assert (await http.get("/")).status_code == 200
    api = await http.get(f"/api/contacts/{cid}")
    assert api.json()["customer_number"] == "K-1001"
    timeline = await http.get(f"/api/contacts/{cid}/timeline")
    assert [e["kind"] for e in timeline.json()] == ["call"]
    assert (await http.get("/api/contacts", params={"q": "erika"})).json()[0]["contact_id"] == cid
    assert (await http.get("/api/contacts/unknown")).status_code == 404
    calls = await http.get("/api/calls", params={"days": 366})
    assert calls.status_code == 200
