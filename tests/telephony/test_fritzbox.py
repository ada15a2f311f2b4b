"""The FRITZ!Box driver against a call monitor peer, recording into the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.telephony.connection import Backoff
from adapters.telephony.fritzbox import FritzBoxMonitor
from adapters.telephony.model import CallTracker
from hub.capture import Capture
from hub.phone import normalize
from hub.store import EventStore
from tests.telephony.conftest import call_events, of_type, wait_for_calls, wait_for_head
from tests.telephony.peers import FritzBoxPeer

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 3, 2, 9, 0, 0)


def stamp(second: int) -> str:
    return (START + timedelta(seconds=second)).strftime("%d.%m.%y %H:%M:%S")


def monitor(peer: FritzBoxPeer, ring_timeout: float = 300.0) -> FritzBoxMonitor:
    tracker = CallTracker(
        "fritzbox",
        lambda raw: normalize(raw, "DE", "30"),
        ids_reused=True,
        ring_timeout=ring_timeout,
    )
    return FritzBoxMonitor("fritzbox", "127.0.0.1", peer.port, tracker, BERLIN, Backoff(0.01, 0.05))


@pytest.fixture
async def peer() -> AsyncIterator[FritzBoxPeer]:
    box = FritzBoxPeer()
    await box.start()
    yield box
    await box.close()


def one_call(i: int) -> list[str]:
    """Call i: answered when i is even, missed when odd; connection ids come round again."""
    cid = i % 4
    t = 10 * i
    lines = [f"{stamp(t)};RING;{cid};0171123{i:04d};3012345;SIP{cid % 2};"]
    if i % 2 == 0:
        lines.append(f"{stamp(t + 3)};CONNECT;{cid};4;0171123{i:04d};")
        lines.append(f"{stamp(t + 8)};DISCONNECT;{cid};5;")
    else:
        lines.append(f"{stamp(t + 6)};DISCONNECT;{cid};0;")
    return lines


async def test_500_calls_back_to_back_then_replayed(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    box = monitor(peer)
    running(box.run(capture))
    await peer.wait_connections(1)
    lines = [line for i in range(500) for line in one_call(i)]
    await peer.send(lines)
    await wait_for_head(store, 500 + 250 + 500)
    events = await call_events(store)
    ended = of_type(events, "CallEnded")
    assert [e.cause for e in ended].count("answered") == 250
    assert [e.cause for e in ended].count("missed") == 250
    assert len(of_type(events, "CallRinging")) == 500
    assert len(of_type(events, "CallAnswered")) == 250
    assert len({e.call_id for e in ended}) == 500  # reused connection ids, distinct calls
    assert ended[0].duration_seconds == 5 and ended[1].duration_seconds == 0
    assert ended[2].number == "+491711230002"

    # The box replays everything (e.g. a reconnect to a box that resends): nothing new.
    await peer.send([*lines, f"{stamp(9000)};RING;0;;3012345;SIP0;"])
    await wait_for_head(store, 500 + 250 + 500 + 1)
    events = await call_events(store)
    assert len(events) == 500 + 250 + 500 + 1 and events[-1].event.caller is None


async def test_two_calls_ring_at_once_on_different_lines(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    running(monitor(peer).run(capture))
    await peer.wait_connections(1)
    await peer.send(
        [
            f"{stamp(0)};RING;0;030555111;3012345;SIP0;",
            f"{stamp(1)};RING;1;0891234567;3099999;ISDN;",
            f"{stamp(4)};CONNECT;1;11;0891234567;",
            f"{stamp(9)};DISCONNECT;0;0;",
            f"{stamp(20)};DISCONNECT;1;16;",
        ]
    )
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 2)
    ringing = {e.line: e for e in of_type(events, "CallRinging")}
    assert ringing["3012345"].caller == "+4930555111" and ringing["3012345"].trunk == "SIP0"
    assert ringing["3099999"].caller == "+49891234567" and ringing["3099999"].trunk == "ISDN"
    ended = {e.line: e for e in of_type(events, "CallEnded")}
    assert ended["3012345"].cause == "missed" and ended["3012345"].missed
    assert ended["3099999"].cause == "answered" and ended["3099999"].extension == "11"
    assert ended["3099999"].duration_seconds == 16
    streams = {r.stream for r in events}
    assert len(streams) == 2 and all(s.startswith("call-fritzbox-") for s in streams)


async def test_connection_dropped_mid_call_keeps_the_call(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    box = monitor(peer)
    running(box.run(capture))
    await peer.wait_connections(1)
    await peer.send([f"{stamp(0)};CALL;2;12;3012345;017099887766;SIP1;"])
    await wait_for_calls(store, lambda e: len(e) == 1)
    await peer.drop()  # the box restarts mid-call
    await peer.wait_connections(2)
    await peer.send(
        [f"{stamp(5)};CONNECT;2;12;017099887766;", f"{stamp(65)};DISCONNECT;2;60;"], eol="\n"
    )
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    placed, answered, ended = (r.event for r in events)
    assert placed.callee == "+4917099887766" and placed.extension == "12"
    assert answered.direction == "outbound"
    assert ended.cause == "answered" and ended.duration_seconds == 60
    assert len({r.stream for r in events}) == 1
    assert box.connections == 2


async def test_call_left_ringing_after_a_drop_is_closed_as_unknown(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    running(monitor(peer, ring_timeout=0.2).run(capture))
    await peer.wait_connections(1)
    await peer.send([f"{stamp(0)};RING;0;030555111;3012345;SIP0;"])
    await peer.drop()
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    ended = of_type(events, "CallEnded")[0]
    assert ended.cause == "unknown" and ended.number == "+4930555111"


async def test_garbage_and_overlong_lines_are_skipped_and_the_connection_kept(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    box = monitor(peer)
    running(box.run(capture))
    await peer.wait_connections(1)
    await peer.send(b"\x00\xff garbage;;;\r\n")
    await peer.send(b"x" * 100_000)  # an over-long line, split across reads
    await peer.send(b"y" * 5000 + b"\n")
    await peer.send(f"{stamp(0)};RING;0;'; DROP TABLE events;--;3012345;SIP0;\n")
    await peer.send(f"{stamp(1)};HOLD;0;\n{stamp(2)};DISCONNECT;0;abc;\n")
    # A real call after the noise, one line split across two writes.
    await peer.send(f"{stamp(3)};RING;1;030555")
    await peer.send(f"111;3012345;SIP0;\r\n{stamp(9)};DISCONNECT;1;0;\r\n")
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert of_type(events, "CallRinging")[0].caller == "+4930555111"
    assert box.connections == 1
    assert box.skipped_lines == 5


async def test_suppressed_caller_id(
    store: EventStore, capture: Capture, peer: FritzBoxPeer, running
) -> None:
    running(monitor(peer).run(capture))
    await peer.wait_connections(1)
    await peer.send([f"{stamp(0)};RING;0;;3012345;POTS;", f"{stamp(7)};DISCONNECT;0;0;"])
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    ringing = of_type(events, "CallRinging")[0]
    assert ringing.caller is None and ringing.caller_raw == "" and ringing.trunk == "POTS"
    assert of_type(events, "CallEnded")[0].cause == "missed"
    assert len(await call_events(store)) == 2
