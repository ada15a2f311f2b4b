"""Issue 21, item 1: staff check the classifier's labels where they already are (one click
on the card, the "Bitte prüfen" queue), and the risk list, the counts and the card follow
at once; a later model's reading never undoes what staff said. Both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hub.events import NewEvent
from hub.events.classification import ClassificationCorrected, MessageClassified
from hub.store import ANY, EventStore
from policies.classifier.policy import message_of
from tests.web.conftest import Web
from tests.web.events import T0, email
from tests.web.test_pages import contact


async def classified(
    store: EventStore,
    cid: str,
    subject: str,
    scores: dict[str, float],
    *,
    minutes_ago: int = 60,
    version: str = "v1",
    position: tuple[str, int] | None = None,
) -> int:
    """An email from the customer (or an existing one) and the model's reading of it."""
    if position is None:
        ago = int((datetime.now(UTC) - T0).total_seconds() // 60)
        position = await email(
            store, "erika@kunde.example", subject, text=subject, minutes=ago - minutes_ago
        )
    stream, at = position
    label = max(scores, key=scores.__getitem__)
    event = MessageClassified(
        message_position=at,
        message_stream=stream,
        message_type="EmailReceived",
        label=label,
        confidence=scores[label],
        model="m",
        model_version=version,
        contact_id=cid,
        scores=scores,
    )
    await store.append(f"classification-{at}", ANY, [NewEvent(event)])
    return at


def checks(html: str) -> list[int]:
    return [int(p) for p in re.findall(r'data-check="(\d+)"', html)]


async def risk_reason(web: Web) -> str:
    async with web.kartei.store.db.read() as conn:
        ranked = await web.kartei.projection("risk").ranked(conn)  # type: ignore[attr-defined]
    return str(ranked[0]["reason"]) if ranked else ""


SURE = {"complaint": 0.9, "praise": 0.05, "neutral": 0.05}


async def test_one_click_on_the_card_changes_label_and_risk(
    web: Web, store: EventStore, admin
) -> None:
    web.app.state.message_words = message_of
    http, csrf = admin
    cid = await contact(store)
    positions = [
        await classified(store, cid, f"Reklamation {i}", SURE, minutes_ago=60 * (i + 1))
        for i in range(3)
    ]
    await web.settle()
    assert (await risk_reason(web)).startswith("3 complaints")
    card = await http.get(f"/contacts/{cid}")
    forms = re.findall(
        r'action="/classifications/(\d+)/correct" class="inline label-check"', card.text
    )
    assert sorted(map(int, forms)) == positions
    assert "Eingeordnet als Beschwerde" in card.text and ">Stimmt</button>" in card.text
    # No CSRF token: refused, nothing recorded.
    refused = await http.post(f"/classifications/{positions[0]}/correct", data={"label": "neutral"})
    assert refused.status_code == 403
    done = await http.post(
        f"/classifications/{positions[0]}/correct",
        data={"label": "neutral", "csrf": csrf},
        headers={"referer": f"http://kartei.test/contacts/{cid}"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/contacts/{cid}"
    [r] = await store.read_all(0, 1000, types=("ClassificationCorrected",))
    corrected = r.event
    assert isinstance(corrected, ClassificationCorrected)
    assert (corrected.label, corrected.previous_label, corrected.by) == (
        "neutral",
        "complaint",
        "anna",
    )
    assert corrected.message_position == positions[0] and r.recorded_at is not None
    await web.settle()  # (a running Kartei: the handler waits for its read models)
    assert (await risk_reason(web)).startswith("2 complaints")
    card = await http.get(f"/contacts/{cid}")
    assert "Eingeordnet als Neutral (geprüft)" in card.text
    # "Stimmt" confirms: a correction with the same label, which also counts as checked.
    await http.post(
        f"/classifications/{positions[1]}/correct", data={"label": "complaint", "csrf": csrf}
    )
    await web.settle()
    async with web.kartei.store.db.read() as conn:
        counts = await web.kartei.projection("review").counts(conn)  # type: ignore[attr-defined]
    assert counts == {"classified": 3, "checked": 2, "new": 2, "disagree": 1}
    assert (await risk_reason(web)).startswith("2 complaints")


async def test_the_queue_offers_the_least_sure_first(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    sure = await classified(
        store, cid, "Danke vielmals", {"praise": 0.95, "neutral": 0.03, "complaint": 0.02}
    )
    coin = await classified(
        store, cid, "Rückruf bitte", {"complaint": 0.41, "neutral": 0.40, "praise": 0.19}
    )
    unsure = await classified(
        store, cid, "Na toll", {"praise": 0.5, "complaint": 0.3, "neutral": 0.2}
    )
    await web.settle()
    page = await http.get("/classifications")
    assert page.status_code == 200 and "Bitte prüfen" in page.text
    assert checks(page.text) == [coin, unsure, sure]
    assert "Rückruf bitte" in page.text
    done = await http.post(
        f"/classifications/{coin}/correct",
        data={"label": "neutral", "csrf": csrf},
        headers={"referer": "http://kartei.test/classifications"},
    )
    assert done.headers["location"] == "/classifications"
    await web.settle()
    page = await http.get("/classifications")
    assert checks(page.text) == [unsure, sure]
    assert "Bisher geprüft: 1 / 3" in page.text
    english = await http.get("/classifications", headers={"accept-language": "en"})
    assert english.status_code == 200


async def test_a_later_model_does_not_undo_a_correction(web: Web, store: EventStore, admin) -> None:
    http, csrf = admin
    cid = await contact(store)
    positions = [
        await classified(store, cid, f"Ärger {i}", SURE, minutes_ago=60 * (i + 1)) for i in range(3)
    ]
    await web.settle()
    await http.post(
        f"/classifications/{positions[0]}/correct", data={"label": "praise", "csrf": csrf}
    )
    await web.settle()
    assert (await risk_reason(web)).startswith("2 complaints")
    # A retrained model relabels the message (a new event, the old one stays).
    records = await store.read_stream(f"classification-{positions[0]}")
    first = records[0].event
    assert isinstance(first, MessageClassified)
    again = await classified(
        store, cid, "", SURE, version="v2", position=(first.message_stream, positions[0])
    )
    assert again == positions[0]
    await web.settle()
    assert (await risk_reason(web)).startswith("2 complaints")
    assert "praised once" in await risk_reason(web)
    card = await http.get(f"/contacts/{cid}")
    assert "Eingeordnet als Lob (geprüft)" in card.text
    assert len(await store.read_stream(f"classification-{positions[0]}")) == 3


async def test_the_page_shows_both_scores_and_the_model_in_use(
    web: Web, store: EventStore, admin
) -> None:
    from hub.events.classification import ClassifierRolledBack, ClassifierTrained

    http, _ = admin
    page = await http.get("/classifications")
    assert 'data-model="shipped"' in page.text and "wie ausgeliefert" in page.text

    def trained(
        version: str, adopted: bool, old: float, new: float, previous: str = "shipped"
    ) -> ClassifierTrained:
        return ClassifierTrained(
            version=version,
            previous_version=previous,
            adopted=adopted,
            corrections=150,
            held_back=50,
            previous_scores={"macro_f1": old, "complaint_f1": 0.61, "accuracy": 0.6},
            scores={"macro_f1": new, "complaint_f1": 0.84, "accuracy": 0.8},
            cross_validated={"macro_f1": 0.77, "complaint_f1": 0.81, "accuracy": 0.8},
            by="anna",
        )

    await store.append("classifier-model", ANY, [NewEvent(trained("head-a", True, 0.55, 0.78))])
    page = await http.get("/classifications")
    assert 'data-model="head-a"' in page.text
    assert "Gelernt aus 150 Korrekturen" in page.text
    assert "Makro-F1 0,78" in page.text and "Makro-F1 0,55" in page.text
    assert "kreuzvalidiert auf allen Korrekturen: 0,77 / 0,81" in page.text
    # A worse model is shown with both scores, and not used.
    await store.append(
        "classifier-model", ANY, [NewEvent(trained("head-b", False, 0.78, 0.7, "head-a"))]
    )
    page = await http.get("/classifications")
    assert 'data-model="head-a"' in page.text and "nicht besser: nicht verwendet" in page.text
    back = ClassifierRolledBack(version="shipped", replaced_version="head-a", by="anna")
    await store.append("classifier-model", ANY, [NewEvent(back)])
    page = await http.get("/classifications")
    assert 'data-model="shipped"' in page.text and "Zurück zum vorigen Modell" in page.text
    english = await http.get("/classifications", headers={"accept-language": "en"})
    assert english.status_code == 200


async def test_a_risk_flag_names_the_messages_behind_it(web: Web, store: EventStore, admin) -> None:
    from hub.events.classification import CustomerAtRisk

    http, csrf = admin
    cid = await contact(store)
    unsure = {"complaint": 0.6, "neutral": 0.3, "praise": 0.1}
    positions = [
        await classified(
            store, cid, f"Ärgernis {i}", SURE if i else unsure, minutes_ago=60 * (i + 1)
        )
        for i in range(3)
    ]
    await web.settle()
    risk = CustomerAtRisk(contact_id=cid, complaints=(), score=3.0, reason="3 complaints")
    await store.append(f"risk-{cid}", None, [NewEvent(risk)])
    await web.settle()
    page = await http.get("/risks")
    named = re.findall(r'<li data-message="(\d+)">', page.text)
    assert sorted(map(int, named)) == positions
    assert "Ärgernis 0" in page.text and "zweiten Wahl: 30 Prozentpunkte" in page.text
    assert "zweiten Wahl: 85 Prozentpunkte" in page.text and "sicher:" not in page.text
    await http.post(
        f"/classifications/{positions[0]}/correct", data={"label": "complaint", "csrf": csrf}
    )
    await web.settle()
    page = await http.get("/risks")
    assert re.search(rf'data-message="{positions[0]}">.*?\(geprüft\)', page.text, re.S)


async def test_the_same_words_take_one_place_in_the_queue(
    web: Web, store: EventStore, admin
) -> None:
    """A standing order mailed every month is asked about once, not ten times: the queue
    leaves room for the other messages the model is unsure of."""
    http, _ = admin
    cid = await contact(store)
    unsure = {"neutral": 0.45, "complaint": 0.40, "praise": 0.15}
    monthly = [
        await classified(store, cid, "Bestellung Kopierpapier", unsure, minutes_ago=m)
        for m in (10, 20, 30)
    ]
    other = await classified(
        store, cid, "Na toll", {"praise": 0.5, "complaint": 0.3, "neutral": 0.2}
    )
    await web.settle()
    page = await http.get("/classifications")
    first, *rest = checks(page.text)
    assert first in monthly and rest == [other]
