"""Cloud PBX webhooks through the real app (hub.web.app via bootstrap), driven by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import HTTPException

from adapters.telephony.ratelimit import BURST, RateLimit
from hub.bootstrap import bootstrap
from hub.settings import settings_from_dict
from hub.store import EventStore
from tests.telephony.conftest import call_events, of_type

TOKEN = "s3cret-token-0123456789"


@pytest.fixture
async def client(store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_from_dict(
        {"telephony": {"webhook_token": TOKEN}, "contacts": {"own_area_code": "30"}}
    )
    kartei = bootstrap(settings, store=store, projections=[], policies=[], adapters=[])
    assert kartei.web is not None
    transport = httpx.ASGITransport(app=kartei.web.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as c:
        yield c


async def post(client: httpx.AsyncClient, provider: str, data: object) -> httpx.Response:
    return await client.post(f"/telephony/{provider}/{TOKEN}", data=data)  # type: ignore[arg-type]


async def test_sipgate_answered_call(client: httpx.AsyncClient, store: EventStore) -> None:
    call = {"callId": "A1B2C3", "from": "4930555111", "to": "4930123450", "direction": "in"}
    reply = await post(client, "sipgate", {**call, "event": "newCall", "user[]": ["Anna", "Ben"]})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/xml"
    url = f"http://kartei.test/telephony/sipgate/{TOKEN}"
    assert f'onAnswer="{url}"' in reply.text and f'onHangup="{url}"' in reply.text
    answer = {**call, "event": "answer", "user": "Anna", "answeringNumber": "493012345012"}
    assert (await post(client, "sipgate", answer)).status_code == 200
    hangup = {**call, "event": "hangup", "cause": "normalClearing"}
    assert (await post(client, "sipgate", hangup)).status_code == 200
    assert (await post(client, "sipgate", hangup)).status_code == 200  # a retry: no-op
    ringing, answered, ended = (r.event for r in await call_events(store))
    assert ringing.caller == "+4930555111" and ringing.extension == "Anna, Ben"
    assert answered.answered_by == "Anna" and answered.extension == "493012345012"
    assert ended.cause == "answered" and ended.call_id == "A1B2C3" and ended.source == "sipgate"


async def test_sipgate_missed_from_withheld_number(
    client: httpx.AsyncClient, store: EventStore
) -> None:
    call = {"callId": "X9", "from": "anonymous", "to": "4930123450", "direction": "in"}
    await post(client, "sipgate", {**call, "event": "newCall"})
    await post(client, "sipgate", {**call, "event": "hangup", "cause": "cancel"})
    ringing, ended = (r.event for r in await call_events(store))
    assert ringing.caller is None and ringing.caller_raw == ""
    assert ended.missed


@pytest.mark.parametrize(
    "path", [f"/telephony/sipgate/{TOKEN}x", "/telephony/sipgate/", "/telephony/sipgate/wrong"]
)
async def test_wrong_or_missing_token_appends_nothing(
    client: httpx.AsyncClient, store: EventStore, path: str
) -> None:
    body = {"event": "newCall", "callId": "Z1", "from": "030555111", "direction": "in"}
    reply = await client.post(path, data=body)
    assert reply.status_code in (401, 404, 405)
    assert await store.head() == 0


async def test_placetel_notify_sequence(client: httpx.AsyncClient, store: EventStore) -> None:
    call = {"call_id": "pt-77", "from": "0891234567", "to": "0301234500"}
    await post(client, "placetel", {**call, "event": "IncomingCall"})
    await post(client, "placetel", {**call, "event": "CallAccepted", "peer": "777@sip"})
    reply = await post(
        client, "placetel", {**call, "event": "HungUp", "type": "accepted", "duration": "42"}
    )
    assert reply.status_code == 200
    events = await call_events(store)
    ended = of_type(events, "CallEnded")[0]
    assert ended.cause == "answered" and ended.duration_seconds == 42
    assert of_type(events, "CallRinging")[0].caller == "+49891234567"
    assert of_type(events, "CallAnswered")[0].answered_by == "777@sip"


async def test_zammad_style_cti_outbound_busy(client: httpx.AsyncClient, store: EventStore) -> None:
    call = {
        "callId": "cti-5",
        "from": "0301234512",
        "to": "0171555444",
        "direction": "out",
        "user": "Carla",
    }
    reply = await post(client, "cti", {**call, "event": "newCall"})
    assert reply.json() == {}
    await post(client, "cti", {**call, "event": "hangup", "cause": "busy"})
    placed, ended = (r.event for r in await call_events(store))
    assert placed.callee == "+49171555444" and placed.extension == "Carla"
    assert ended.direction == "outbound" and ended.cause == "busy"


@pytest.mark.parametrize(
    "body",
    [
        {"event": "newCall", "callId": "../../etc", "from": "1"},
        {"event": "newCall"},
        {"event": "explode", "callId": "c1"},
        {"event": "hangup", "callId": "c1", "cause": "meteor"},
        {"event": "newCall", "callId": "c1", "from": "1" * 5000},
    ],
)
async def test_hostile_bodies_are_refused_with_400(
    client: httpx.AsyncClient, store: EventStore, body: dict[str, str]
) -> None:
    reply = await post(client, "sipgate", body)
    assert reply.status_code == 400
    assert await store.head() == 0


async def test_oversized_body_is_refused(client: httpx.AsyncClient, store: EventStore) -> None:
    reply = await client.post(
        f"/telephony/cti/{TOKEN}",
        content=b"a=" + b"b" * 100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 400 and await store.head() == 0


def test_rate_limit_refuses_a_flood_and_recovers() -> None:
    now = [0.0]
    limit = RateLimit(rate=10, burst=BURST, clock=lambda: now[0])
    assert all(limit.allow() for _ in range(BURST))
    assert not limit.allow()
    with pytest.raises(HTTPException) as refused:
        limit.check()
    assert refused.value.status_code == 429
    now[0] += 0.1
    assert limit.allow() and not limit.allow()


async def test_hangup_of_a_call_never_seen_ringing_keeps_its_party(
    client: httpx.AsyncClient, store: EventStore
) -> None:
    call = {"callId": "late-1", "from": "0301234512", "to": "0171555444", "direction": "out"}
    await post(client, "sipgate", {**call, "event": "hangup", "cause": "busy"})
    (ended,) = (r.event for r in await call_events(store))
    assert ended.direction == "outbound" and ended.number == "+49171555444"
    assert ended.cause == "busy"
