"""Cloud PBX webhooks through the real app (hub.web.app via bootstrap), driven by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from adapters.telephony.ratelimit import BURST, ClientRateLimit, RateLimit, client_key
from adapters.telephony.setup import number_normalizer, telephony_adapters
from adapters.telephony.webhooks import WebhookIntake
from hub.bootstrap import bootstrap, identity_index
from hub.capture import Capture
from hub.contacts import ContactService
from hub.events.contacts import Phone
from hub.health import ComponentHealth
from hub.phone import normalize
from hub.settings import settings_from_dict
from hub.store import EventStore
from tests.telephony.conftest import call_events, of_type, wait_for_calls

TOKEN = "s3cret-token-0123456789"


SETTINGS = {"telephony": {"webhook_token": TOKEN}, "contacts": {"own_area_code": "30"}}


def app_with(store: EventStore, intake: WebhookIntake | None = None) -> FastAPI:
    """The real app, its webhook intake built from the settings (or the one given)."""
    settings = settings_from_dict(SETTINGS)
    adapters = telephony_adapters(settings) if intake is None else [intake]
    kartei = bootstrap(settings, store=store, projections=[], policies=[], adapters=adapters)
    assert kartei.web is not None
    return kartei.web.app


def http(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://kartei.test")


@pytest.fixture
async def client(store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    async with http(app_with(store)) as c:
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


MOBILE = "0151 8275367"  # Erika Mobil's mobile as staff typed it


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        # sipgate.io documents E.164 without "+": from "492111234567", to "4915791234567".
        ("sipgate", {"event": "newCall", "callId": "sg-1", "direction": "in"}),
        # Zammad's generic CTI documents both "493055571600" and "02214710334".
        ("cti", {"event": "newCall", "callId": "cti-1", "direction": "in"}),
        ("cti", {"event": "newCall", "callId": "cti-2", "direction": "in", "from": "01518275367"}),
        # Placetel documents national numbers with the trunk 0: "022129191999".
        ("placetel", {"event": "IncomingCall", "call_id": "pt-1", "from": "01518275367"}),
    ],
)
async def test_a_mobile_caller_pops_their_card_in_each_providers_number_format(
    store: EventStore, provider: str, body: dict[str, str]
) -> None:
    """The demo customer's mobile rang from sipgate as from=491518275367, was stored as
    +49491518275367, and the pop said "Unbekannter Anrufer"."""
    await ContactService(store).create(
        {
            "given_name": "Erika",
            "family_name": "Mobil",
            "phones": (Phone(number=normalize(MOBILE) or "", label="mobile", raw=MOBILE),),
        }
    )
    settings = settings_from_dict(SETTINGS)
    kartei = bootstrap(
        settings,
        store=store,
        projections=[identity_index(settings)],
        policies=[],
        adapters=telephony_adapters(settings),
    )
    assert kartei.web is not None
    identity = kartei.projections["identity"]
    await identity.prepare()
    await identity.catch_up()
    async with http(kartei.web.app) as client:
        sent = {"from": "491518275367", "to": "4930123450", **body}
        assert (await post(client, provider, sent)).status_code == 200
    (ringing,) = await call_events(store)
    assert ringing.event.caller == "+491518275367"
    assert ringing.event.caller_raw == sent["from"]
    pop = await kartei.web.app.state.pop.message(ringing)
    assert pop["type"] == "ring" and pop["number"] == "+491518275367"
    assert pop["name"] == "Erika Mobil" and pop["contact_id"] is not None
    await kartei.web.app.state.pop.close()


@pytest.mark.parametrize(
    "body",
    [
        {"event": "newCall", "callId": "../../etc", "from": "1"},
        {"event": "newCall"},
        {"event": "explode", "callId": "c1"},
        {"event": "hangup", "callId": "c1", "cause": "meteor"},
        {"event": "newCall", "callId": "c1", "from": "1" * 5000},
        {f"f{n}": "x" for n in range(101)},  # was a 500: parse_qsl's ValueError (bench/fuzz)
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


async def test_a_flooding_client_is_refused_while_the_pbx_gets_through(store: EventStore) -> None:
    app = app_with(store)
    async with http(app, "203.0.113.9") as stranger, http(app, "198.51.100.7") as pbx:
        guesses = [
            (await stranger.post(f"/telephony/sipgate/guess{i}", data={})).status_code
            for i in range(2 * BURST)
        ]
        # The bucket refills at 20 a second while the flood goes on: most late ones bounce.
        assert guesses[:BURST] == [404] * BURST and guesses[BURST:].count(429) > BURST / 2
        call = {"event": "newCall", "callId": "pbx-1", "from": "030555111", "direction": "in"}
        assert (await post(pbx, "sipgate", call)).status_code == 200
    assert len(await call_events(store)) == 1


def test_all_clients_together_stay_under_the_global_cap() -> None:
    now = [0.0]
    limit = ClientRateLimit(rate=1, burst=2, total_rate=1, total_burst=5, clock=lambda: now[0])
    allowed = [limit.allow(f"192.0.2.{i}") for i in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    assert limit.allow("192.0.2.1") is False  # its own bucket has room, the cap has none
    now[0] += 1.0
    assert limit.allow("192.0.2.1") is True


def test_clients_are_counted_by_address_and_ipv6_by_their_64() -> None:
    limit = ClientRateLimit(rate=1, burst=1, clock=lambda: 0.0)
    assert limit.allow("2001:db8:1:2::10") and not limit.allow("2001:db8:1:2:ffff::1")
    assert limit.allow("2001:db8:1:3::10")  # another /64: another client
    assert limit.allow("192.0.2.1") and not limit.allow("::ffff:192.0.2.1")
    assert client_key(None) == "unknown" and client_key("testclient") == "testclient"


def test_forgotten_clients_are_the_least_recently_seen() -> None:
    limit = ClientRateLimit(rate=1, burst=1, max_clients=2, clock=lambda: 0.0)
    assert limit.allow("192.0.2.1") and limit.allow("192.0.2.2")
    assert not limit.allow("192.0.2.1")  # seen again: now the most recent
    assert limit.allow("192.0.2.3")  # forgets 192.0.2.2, not 192.0.2.1
    assert not limit.allow("192.0.2.1")


async def test_call_without_hangup_is_closed_by_the_timer(store: EventStore) -> None:
    """No later request comes: the timer alone closes the call, as "unknown"."""
    now = [1000.0]
    intake = WebhookIntake(
        TOKEN,
        number_normalizer(settings_from_dict(SETTINGS)),
        ring_timeout=60,
        clock=lambda: now[0],
    )
    capture = Capture(store, intake.name, ComponentHealth("adapter:telephony-webhooks"))
    async with http(app_with(store, intake)) as client:
        call = {"event": "newCall", "callId": "lost-1", "from": "030555111", "direction": "in"}
        await post(client, "sipgate", call)
        now[0] += 59
        assert await intake.expire(capture) == 0
        now[0] += 1
        assert await intake.expire(capture) == 1
        assert await intake.expire(capture) == 0
        ringing, ended = (r.event for r in await call_events(store))
        assert ended.cause == "unknown" and ended.number == "+4930555111"
        assert ended.call_id == ringing.call_id == "lost-1"
        # The hang-up arriving after all appends nothing more.
        await post(client, "sipgate", {**call, "event": "hangup", "cause": "normalClearing"})
        assert len(await call_events(store)) == 2


async def test_the_intake_runs_its_timer_as_an_adapter(store: EventStore, running) -> None:
    now = [1000.0]
    intake = WebhookIntake(
        TOKEN,
        number_normalizer(settings_from_dict(SETTINGS)),
        ring_timeout=0.2,
        clock=lambda: now[0],
    )
    capture = Capture(store, intake.name, ComponentHealth("adapter:telephony-webhooks"))
    async with http(app_with(store, intake)) as client:
        call = {"event": "IncomingCall", "call_id": "pt-9", "from": "030555111", "to": "1"}
        await post(client, "placetel", call)
    assert capture.health.state == "starting"
    running(intake.run(capture))
    now[0] += 1  # past the timeout on the intake's clock; its timer checks every 50 ms
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert of_type(events, "CallEnded")[0].cause == "unknown"
    # Health says the endpoints are ready once it runs, before any provider has called.
    assert capture.health.state == "ok" and "sipgate" in capture.health.details["providers"]


async def test_hangup_of_a_call_never_seen_ringing_keeps_its_party(
    client: httpx.AsyncClient, store: EventStore
) -> None:
    call = {"callId": "late-1", "from": "0301234512", "to": "0171555444", "direction": "out"}
    await post(client, "sipgate", {**call, "event": "hangup", "cause": "busy"})
    (ended,) = (r.event for r in await call_events(store))
    assert ended.direction == "outbound" and ended.number == "+49171555444"
    assert ended.cause == "busy"
