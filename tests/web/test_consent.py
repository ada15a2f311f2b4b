"""Consent on the card: shown per channel, recorded from the card, and a task that means
contacting the customer shows what they blocked."""

from __future__ import annotations

from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.tasks import TaskOpened
from hub.store import EventStore
from tests.web.conftest import Web


async def test_card_shows_and_records_consent_and_tasks_show_blocks(
    web: Web, store: EventStore, admin
) -> None:
    http, csrf = admin
    cid = await ContactService(store).create({"given_name": "Berta", "family_name": "Brieflos"})
    task = TaskOpened(
        task_id="k1", title="Freundlichen Brief schreiben", kind="kind_letter", contact_id=cid
    )
    await store.append("task-k1", 0, [NewEvent(task)])
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert "Einwilligung zur Kontaktaufnahme" in page.text
    assert '<dd data-channel="letter" data-state="unknown">' in page.text
    tasks = await http.get("/tasks?scope=team")
    assert "Keine Kontaktaufnahme per" not in tasks.text

    done = await http.post(
        f"/contacts/{cid}/consent",
        data={
            "csrf": csrf,
            "channel": "letter",
            "state": "blocked",
            "source": "Anruf 07.12.",
            "given_on": "2025-12-07",
        },
    )
    assert done.status_code == 303
    await web.settle()
    page = await http.get(f"/contacts/{cid}")
    assert '<dd data-channel="letter" data-state="blocked">' in page.text
    assert "gesperrt" in page.text and "Anruf 07.12., 07.12.2025" in page.text
    tasks = await http.get("/tasks?scope=team")
    assert "Keine Kontaktaufnahme per: Brief" in tasks.text

    future = await http.post(
        f"/contacts/{cid}/consent",
        data={"csrf": csrf, "channel": "email", "state": "allowed", "given_on": "2999-01-01"},
    )
    assert future.status_code == 400 and "Zukunft" in future.text
    bad = await http.post(
        f"/contacts/{cid}/consent", data={"csrf": csrf, "channel": "brieftaube", "state": "allowed"}
    )
    assert bad.status_code == 400
    forged = await http.post(
        f"/contacts/{cid}/consent", data={"csrf": "wrong", "channel": "email", "state": "blocked"}
    )
    assert forged.status_code == 403
    consents = await store.read_all(0, 100, types=["ConsentRecorded"])
    assert [(r.event.channel, r.event.by) for r in consents] == [("letter", "anna")]  # type: ignore[attr-defined]
