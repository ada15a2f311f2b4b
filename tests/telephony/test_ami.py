"""The Asterisk driver against an AMI peer (login from the recorded panoramisk fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.telephony.ami import AsteriskMonitor
from adapters.telephony.ami_calls import PbxLayout
from adapters.telephony.ami_parsing import AmiFramer, AmiProtocolError, action
from adapters.telephony.connection import Backoff
from adapters.telephony.model import CallTracker
from hub.capture import Capture
from hub.phone import normalize
from hub.store import EventStore
from tests.telephony.conftest import of_type, wait_for_calls
from tests.telephony.peers import AMI_FIXTURES, AsteriskPeer

LINKED = "1700000000.1"
DEST = "1700000000.2"


def monitor(peer: AsteriskPeer, secret: str = "geheim") -> AsteriskMonitor:
    tracker = CallTracker("asterisk", lambda raw: normalize(raw, "DE", "30"))
    return AsteriskMonitor(
        "asterisk", "127.0.0.1", peer.port, "kartei", secret, tracker, Backoff(0.01, 0.05)
    )


@pytest.fixture
async def peer() -> AsyncIterator[AsteriskPeer]:
    pbx = AsteriskPeer()
    await pbx.start()
    yield pbx
    await pbx.close()


def caller_channel(**extra: str) -> dict[str, str]:
    return {
        "Channel": "PJSIP/telekom-00000001",
        "CallerIDNum": "030555111",
        "CallerIDName": "Müller GmbH",
        "Exten": "4930123450",
        "Context": "from-trunk",
        "Uniqueid": LINKED,
        "Linkedid": LINKED,
        **extra,
    }


def dest_channel(**extra: str) -> dict[str, str]:
    return {
        "Channel": "PJSIP/201-00000002",
        "CallerIDNum": "201",
        "CallerIDName": "Anna",
        "Exten": "201",
        "Context": "internal",
        "Uniqueid": DEST,
        "Linkedid": LINKED,
        **extra,
    }


def ringing_extension_201() -> list[dict[str, str]]:
    dial = {
        "DestChannel": "PJSIP/201-00000002",
        "DestCallerIDNum": "201",
        "DestUniqueid": DEST,
        "DestLinkedid": LINKED,
    }
    return [
        {"Event": "Newchannel", **caller_channel(ChannelState="4", ChannelStateDesc="Ring")},
        {"Event": "Newchannel", **dest_channel(ChannelState="0", ChannelStateDesc="Down")},
        {"Event": "DialBegin", **caller_channel(), **dial, "DialString": "201"},
        {"Event": "Newstate", **dest_channel(ChannelState="5", ChannelStateDesc="Ringing")},
    ]


def hangups(cause: str = "16") -> list[dict[str, str]]:
    return [
        {"Event": "Hangup", **dest_channel(), "Cause": cause, "Cause-txt": "Normal Clearing"},
        {"Event": "Hangup", **caller_channel(), "Cause": cause, "Cause-txt": "Normal Clearing"},
    ]


async def test_answered_call(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running
) -> None:
    running(monitor(peer).run(capture))
    (login,) = await peer.wait_logins(1)
    assert login["ok"] == "True" and login["Events"] == "call"
    dial_end = {"DestCallerIDNum": "201", "DestUniqueid": DEST, "DialStatus": "ANSWER"}
    await peer.emit(
        *ringing_extension_201(),
        {"Event": "Newstate", **dest_channel(ChannelState="6", ChannelStateDesc="Up")},
        {"Event": "DialEnd", **caller_channel(), **dial_end},
        {"Event": "BridgeEnter", **caller_channel(), "BridgeUniqueid": "b1"},
        {"Event": "BridgeEnter", **dest_channel(), "BridgeUniqueid": "b1"},
        *hangups(),
    )
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    ringing, answered, ended = (r.event for r in events)
    assert ringing.caller == "+4930555111" and ringing.caller_name == "Müller GmbH"
    assert ringing.extension == "201" and ringing.line == "4930123450"
    assert answered.extension == "201"
    assert ended.cause == "answered" and ended.call_id == LINKED
    assert events[0].stream == f"call-asterisk-{LINKED}"


@pytest.mark.parametrize(
    ("status", "cause"), [("NOANSWER", "missed"), ("CANCEL", "missed"), ("BUSY", "busy")]
)
async def test_call_nobody_answers(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running, status: str, cause: str
) -> None:
    running(monitor(peer).run(capture))
    await peer.wait_logins(1)
    await peer.emit(
        *ringing_extension_201(),
        {"Event": "DialEnd", **caller_channel(), "DestUniqueid": DEST, "DialStatus": status},
        *hangups(),
    )
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert [r.type_name for r in events] == ["CallRinging", "CallEnded"]
    assert events[-1].event.cause == cause and events[-1].event.number == "+4930555111"


async def test_outbound_call_placed(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running
) -> None:
    running(monitor(peer).run(capture))
    await peer.wait_logins(1)
    me = {
        "Channel": "PJSIP/201-00000009",
        "CallerIDNum": "201",
        "Exten": "0891234567",
        "Uniqueid": "1700000100.9",
        "Linkedid": "1700000100.9",
    }
    await peer.emit(
        {"Event": "Newchannel", **me, "ChannelState": "4"},
        {"Event": "DialBegin", **me, "DialString": "0891234567@telekom"},
        {"Event": "DialEnd", **me, "DialStatus": "ANSWER", "DestCallerIDNum": "0891234567"},
        {"Event": "Hangup", **me, "Cause": "16"},
    )
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    placed = of_type(events, "CallPlaced")[0]
    assert placed.callee == "+49891234567" and placed.extension == "201"
    assert of_type(events, "CallEnded")[0].direction == "outbound"


async def test_refused_login_is_reported_and_retried_with_backoff(
    capture: Capture, peer: AsteriskPeer, running
) -> None:
    asterisk = monitor(peer, secret="falsch")
    running(asterisk.run(capture))
    logins = await peer.wait_logins(3)
    assert all(login["ok"] == "False" for login in logins)
    assert asterisk.login_failures >= 2
    assert capture.health.state == "degraded"
    assert "Authentication failed" in (capture.health.last_error or "")
    assert asterisk.backoff.current > asterisk.backoff.initial


def test_framer_refuses_a_peer_that_is_not_asterisk() -> None:
    with pytest.raises(AmiProtocolError):
        AmiFramer().feed(b"SSH-2.0-OpenSSH_9.6\r\n")


def test_actions_cannot_smuggle_lines() -> None:
    with pytest.raises(ValueError, match="line break"):
        action("Login", "x", Username="a\r\nAction: Originate")


async def test_connection_dropped_mid_call_keeps_the_call(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running
) -> None:
    asterisk = monitor(peer)
    running(asterisk.run(capture))
    await peer.wait_logins(1)
    await peer.emit(*ringing_extension_201())
    await wait_for_calls(store, lambda e: len(e) == 1)
    await peer.drop()
    await peer.wait_logins(2)
    dial_end = {"DestCallerIDNum": "201", "DestUniqueid": DEST, "DialStatus": "ANSWER"}
    await peer.emit({"Event": "DialEnd", **caller_channel(), **dial_end}, *hangups())
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert [r.type_name for r in events] == ["CallRinging", "CallAnswered", "CallEnded"]
    assert events[-1].event.cause == "answered" and asterisk.logins == 2


def recorded_events(name: str) -> list[dict[str, str]]:
    """The events of a recorded exchange (panoramisk's fixtures), as sent by Asterisk."""
    text = (AMI_FIXTURES / name).read_text().replace("\r\n", "\n")
    blocks = [b for b in text.split("\n\n") if b.startswith("Event:")]
    return [dict(line.split(": ", 1) for line in b.split("\n") if ": " in line) for b in blocks]


async def test_recorded_internal_calls_append_nothing_before_an_outside_call(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running
) -> None:
    """Replays two recorded Asterisk 11 exchanges (an Originate between extensions 259
    and 254, an extension dialling a feature code), then an outside call: the log holds
    the outside call only, and the monitor counts the two internal ones."""
    asterisk = monitor(peer)
    running(asterisk.run(capture))
    await peer.wait_logins(1)
    recorded = recorded_events("originate_with_events.yaml")
    recorded += recorded_events("agent_not_in_pause.yaml")
    assert len(recorded) > 300
    await peer.emit(*recorded, *ringing_extension_201(), *hangups())
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert [r.type_name for r in events] == ["CallRinging", "CallEnded"]
    assert {r.stream for r in events} == {f"call-asterisk-{LINKED}"}
    assert asterisk.mapper.internal_calls == 2 and asterisk.mapper.open_calls == 0


async def test_configured_trunk_in_an_unusual_context_rings(
    store: EventStore, capture: Capture, peer: AsteriskPeer, running
) -> None:
    tracker = CallTracker("asterisk", lambda raw: normalize(raw, "DE", "30"))
    layout = PbxLayout.of(trunks=["telekom"])
    asterisk = AsteriskMonitor(
        "asterisk", "127.0.0.1", peer.port, "kartei", "geheim", tracker, Backoff(0.01, 0.05), layout
    )
    running(asterisk.run(capture))
    await peer.wait_logins(1)
    odd = [
        {**m, "Context": "kunden-rein"} if m["Uniqueid"] == LINKED else m
        for m in ringing_extension_201()
    ]
    await peer.emit(*odd, *hangups())
    events = await wait_for_calls(store, lambda e: len(of_type(e, "CallEnded")) == 1)
    assert [r.type_name for r in events] == ["CallRinging", "CallEnded"]
    assert events[-1].event.direction == "inbound" and events[-1].event.missed
