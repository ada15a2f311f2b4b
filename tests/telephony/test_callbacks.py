"""The call log projection and the call-back policy, on the real store and runners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import httpx

from adapters.telephony.model import CallTracker, Signal
from adapters.telephony.recording import record_calls
from hub.bootstrap import Kartei, bootstrap
from hub.capture import Capture
from hub.events.contacts import ContactCreated, Phone
from hub.events.tasks import TaskCompleted
from hub.phone import normalize
from hub.settings import settings_from_dict
from hub.store import EventStore
from projections.calls import CallLog
from projections.identity import IdentityIndex
from projections.tasks import TaskQueue

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KNOWN = "030 555111"
LOOKUP_TOKEN = "lookup-token-0123456789"
TEMPLATE = Path(__file__).parents[2] / "hub" / "defaults" / "3cx-crm-template.xml"
FOUND_FIELDS = {"number", "found", "contact_id", "name", "company", "customer_number", "url", "how"}


async def setup(store: EventStore) -> tuple[Kartei, Capture, CallTracker]:
    settings = settings_from_dict({"telephony": {"lookup_token": LOOKUP_TOKEN}})
    projections = [TaskQueue(), IdentityIndex(), CallLog()]
    kartei = bootstrap(settings, store=store, projections=projections, adapters=[])
    for runner in [*kartei.projections.values(), *kartei.policies.values()]:
        await runner.prepare()
    created = ContactCreated(
        contact_id="c1",
        given_name="Erika",
        family_name="Muster",
        company="Muster GmbH",
        phones=(Phone(number="+4930555111", label="mobile", raw=KNOWN),),
    )
    await store.append("contact-c1", 0, [created])
    tracker = CallTracker("pbx", lambda raw: normalize(raw, "DE"))
    return kartei, Capture(store, "pbx", kartei.health.component("pbx")), tracker


async def call(
    capture: Capture, tracker: CallTracker, call_id: str, number: str, answered: bool = False
) -> None:
    t = T0 + timedelta(minutes=int(call_id[1:]))
    signals = [Signal("ring", call_id, t, number_raw=number, line="3012345")]
    if answered:
        signals.append(Signal("answered", call_id, t + timedelta(seconds=3), extension="11"))
    signals.append(Signal("ended", call_id, t + timedelta(seconds=30)))
    for s in signals:
        await record_calls(capture, tracker.feed(s))


async def settle(kartei: Kartei) -> None:
    """Identity and call log first, then the policy, then the task queue it feeds."""
    for name in ("identity", "calls"):
        await kartei.projections[name].catch_up()
    await kartei.policies["callbacks"].catch_up()
    await kartei.projections["tasks"].catch_up()


async def open_callbacks(kartei: Kartei) -> list[object]:
    queue = kartei.projection("tasks")
    async with kartei.store.db.read() as conn:
        return await queue.unfinished(conn, contact_id="c1")  # type: ignore[attr-defined]


async def test_one_callback_task_per_known_caller_while_open(store: EventStore) -> None:
    kartei, capture, tracker = await setup(store)
    await call(capture, tracker, "k1", KNOWN)
    await call(capture, tracker, "k2", "+49 30 555111")  # same caller, written otherwise
    await settle(kartei)
    await call(capture, tracker, "k3", KNOWN)
    await settle(kartei)
    (task,) = await open_callbacks(kartei)
    assert task.kind == "callback" and task.dedupe_key == "callback:c1"  # type: ignore[attr-defined]

    await store.append(f"task-{task.task_id}", None, [TaskCompleted(task_id=task.task_id)])  # type: ignore[attr-defined]
    await call(capture, tracker, "k4", KNOWN, answered=True)  # answered: no task
    await settle(kartei)
    assert await open_callbacks(kartei) == []
    await call(capture, tracker, "k5", KNOWN)
    await settle(kartei)
    assert len(await open_callbacks(kartei)) == 1


async def test_unknown_missed_numbers_are_listed_until_spoken_to(store: EventStore) -> None:
    kartei, capture, tracker = await setup(store)
    await call(capture, tracker, "u1", "0891234567")
    await call(capture, tracker, "u2", "0891234567")
    await call(capture, tracker, "u3", "040 998877")
    await call(capture, tracker, "u4", KNOWN)  # a known caller is a task, not on the list
    await call(capture, tracker, "u5", "040 998877", answered=True)
    await settle(kartei)
    log: CallLog = kartei.projection("calls")  # type: ignore[assignment]
    index = kartei.projection("identity")
    async with store.db.read() as conn:
        (missed,) = await log.unknown_missed(conn, index)  # type: ignore[arg-type]
        recent = await log.recent(conn)
    assert missed.number == "+49891234567" and missed.missed == 2
    assert len(recent) == 5 and {r["status"] for r in recent} == {"ended"}
    answered = next(r for r in recent if r["call_id"] == "u5")
    assert answered["cause"] == "answered" and answered["extension"] == "11"
    assert len(await open_callbacks(kartei)) == 1


async def test_lookup_endpoint_names_the_caller(store: EventStore) -> None:
    kartei, _, _ = await setup(store)
    await kartei.projections["identity"].catch_up()
    assert kartei.web is not None
    transport = httpx.ASGITransport(app=kartei.web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as client:
        url = f"/telephony/lookup/{LOOKUP_TOKEN}"
        found = (await client.get(url, params={"number": "030555111"})).json()
        unknown = (await client.get(url, params={"number": "+49 89 1234567"})).json()
        refused = await client.get("/telephony/lookup/wrong-token", params={"number": KNOWN})
    assert set(found) == FOUND_FIELDS
    assert found["found"] and found["name"] == "Erika Muster"
    assert found["company"] == "Muster GmbH" and found["url"].endswith("/contacts/c1")
    assert unknown == {"number": "+49891234567", "found": False}
    assert refused.status_code == 404


def test_3cx_template_asks_the_lookup_endpoint_for_fields_it_answers() -> None:
    root = ElementTree.parse(TEMPLATE).getroot()
    request = root.find("Scenarios/Scenario/Request")
    assert request is not None
    assert request.get("Url") == "[KarteiUrl]/telephony/lookup/[LookupToken]"
    (query,) = root.iterfind("Scenarios/Scenario/Request/Query/Parameter")
    assert query.get("Name") == "number"
    paths = {v.get("Path") for v in root.iterfind("Scenarios/Scenario/Variables/Variable")}
    assert paths <= FOUND_FIELDS
