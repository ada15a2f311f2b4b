"""The risk list (acknowledge) and the classifier's labels corrected by staff, over HTTP on
both databases: each action is one event, and the risk list follows the correction."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hub.events import NewEvent
from hub.events.classification import (
    ClassificationCorrected,
    CustomerAtRisk,
    MessageClassified,
    RiskAcknowledged,
)
from hub.store import EventStore
from policies.classifier.policy import message_of
from tests.web.conftest import Web
from tests.web.events import T0, email
from tests.web.test_pages import contact


async def complaints(store: EventStore, cid: str, n: int) -> list[int]:
    """`n` emails from the customer this week, each classified as a complaint."""
    ago = int((datetime.now(UTC) - T0).total_seconds() // 60)
    positions = []
    for i in range(n):
        stream, position = await email(
            store,
            "erika@kunde.example",
            f"Beschwerde {i}",
            text="Das ist unerhört!",
            minutes=ago - 60 * i,
        )
        event = MessageClassified(
            message_position=position,
            message_stream=stream,
            message_type="EmailReceived",
            label="complaint",
            confidence=0.9,
            model="m",
            model_version="1",
            contact_id=cid,
        )
        await store.append(f"classification-{position}", 0, [NewEvent(event)])
        positions.append(position)
    return positions


async def test_acknowledge_a_customer_at_risk(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    await complaints(store, cid, 3)
    risk = CustomerAtRisk(contact_id=cid, complaints=(1, 2, 3), score=3.0, reason="3 complaints")
    await store.append(f"risk-{cid}", None, [NewEvent(risk)])
    await web.settle()
    page = await http.get("/risks")
    assert page.status_code == 200
    assert "Erika Muster" in page.text and f'action="/risks/{cid}/acknowledge"' in page.text
    assert (await http.post(f"/risks/{cid}/acknowledge", data={"comment": "x"})).status_code == 403
    done = await http.post(
        f"/risks/{cid}/acknowledge", data={"comment": "Gutschein geschickt", "csrf": csrf}
    )
    assert done.status_code == 303
    acks = [r.event for r in await store.read_stream(f"risk-{cid}")]
    assert isinstance(acks[-1], RiskAcknowledged)
    assert (acks[-1].comment, acks[-1].by) == ("Gutschein geschickt", "anna")
    await web.settle()
    page = await http.get("/risks")
    # Acknowledged: earlier complaints no longer count, the customer leaves the list.
    assert f'action="/risks/{cid}/acknowledge"' not in page.text
    assert "Erika Muster" not in page.text and "Kein Kunde mit Abwanderungsgefahr." in page.text
    # Not at risk (any more, or never): nothing to acknowledge.
    again = await http.post(f"/risks/{cid}/acknowledge", data={"csrf": csrf})
    assert again.status_code == 404
    assert (await http.post("/risks/nobody/acknowledge", data={"csrf": csrf})).status_code == 404


async def test_staff_correct_a_classification(web: Web, store: EventStore, admin) -> None:
    web.app.state.message_words = message_of
    http, csrf = admin
    cid = await contact(store)
    positions = await complaints(store, cid, 3)
    await web.settle()
    page = await http.get("/classifications")
    assert sorted(map(int, re.findall(r'data-position="(\d+)"', page.text))) == positions
    assert "Beschwerde 0" in page.text and "Erika Muster" in page.text
    wrong = positions[1]
    done = await http.post(
        f"/classifications/{wrong}/correct", data={"label": "neutral", "csrf": csrf}
    )
    assert done.status_code == 303
    records = await store.read_stream(f"classification-{wrong}")
    corrected = records[-1].event
    assert isinstance(corrected, ClassificationCorrected)
    assert (corrected.label, corrected.previous_label, corrected.by) == (
        "neutral",
        "complaint",
        "anna",
    )
    assert corrected.contact_id == cid and "unerhört" in corrected.text
    assert corrected.text_subject is not None
    await web.settle()
    still = await http.get("/classifications", params={"label": "complaint"})
    assert wrong not in map(int, re.findall(r'data-position="(\d+)"', still.text))
    neutral = await http.get("/classifications", params={"label": "neutral"})
    assert re.findall(r'data-position="(\d+)"', neutral.text) == [str(wrong)]
    async with web.kartei.store.db.read() as conn:
        ranked = await web.kartei.projection("risk").ranked(conn)  # type: ignore[attr-defined]
    assert ranked[0]["reason"].startswith("2 complaints")


async def test_bad_corrections_are_refused(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    [position] = await complaints(store, cid, 1)
    _, unclassified = await email(store, "erika@kunde.example", "Frage")
    for target, label, status in (
        (position, "angry", 400),
        (unclassified, "praise", 404),
        (999_999, "praise", 404),
    ):
        answer = await http.post(
            f"/classifications/{target}/correct", data={"label": label, "csrf": csrf}
        )
        assert answer.status_code == status, (target, label)
    refused = await http.post(f"/classifications/{position}/correct", data={"label": "praise"})
    assert refused.status_code == 403
    assert await store.read_all(0, 100, types=("ClassificationCorrected",)) == []
    # Without the classifier's reading (no classifier installed) the correction still counts.
    done = await http.post(
        f"/classifications/{position}/correct", data={"label": "praise", "csrf": csrf}
    )
    assert done.status_code == 303
    [r] = await store.read_all(0, 100, types=("ClassificationCorrected",))
    assert r.event.label == "praise" and r.event.text == ""  # type: ignore[attr-defined]
