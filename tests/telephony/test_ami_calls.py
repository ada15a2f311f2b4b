"""Call direction from Asterisk's own event data: trunks, contexts, Linkedid, DialBegin.

The recorded exchanges (panoramisk's fixtures, Asterisk 11) are replayed through the real
framer; the Asterisk 13+ sequences follow the AMI event documentation field by field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.telephony.ami import AsteriskMonitor
from adapters.telephony.ami_calls import AmiCallMapper, PbxLayout, endpoint_of
from adapters.telephony.ami_parsing import AmiFramer, Message
from adapters.telephony.model import Signal
from adapters.telephony.setup import telephony_adapters
from hub.settings import ConfigError, settings_from_dict

FIXTURES = Path(__file__).parent / "fixtures" / "ami"


def recorded(name: str) -> list[Message]:
    """The events of a recorded exchange, through the framer as they came off the wire."""
    raw = b"Asterisk Call Manager/1.3\r\n" + (FIXTURES / name).read_bytes()
    return [m for m in AmiFramer().feed(raw + b"\n\n") if "event" in m]


def replay(mapper: AmiCallMapper, messages: list[Message]) -> list[Signal]:
    return [s for m in messages for s in mapper.feed(m)]


def channel(chan: str, unique: str, linked: str, num: str, **extra: str) -> Message:
    return {
        "channel": chan,
        "uniqueid": unique,
        "linkedid": linked,
        "calleridnum": num,
        "calleridname": extra.pop("CallerIDName", ""),
        **{k.lower(): v for k, v in extra.items()},
    }


def dial(source: Message, dest: Message, dialstring: str, event: str = "DialBegin") -> Message:
    return {
        "event": event,
        **source,
        "destchannel": dest["channel"],
        "destuniqueid": dest["uniqueid"],
        "destlinkedid": dest["linkedid"],
        "destcalleridnum": dest["calleridnum"],
        "destcontext": dest.get("context", ""),
        "dialstring": dialstring,
    }


def new(m: Message) -> Message:
    return {"event": "Newchannel", **m}


def hangup(m: Message, cause: str = "16") -> Message:
    return {"event": "Hangup", **m, "cause": cause}


# -- the recorded exchanges ------------------------------------------------------------


def test_recorded_originate_between_two_extensions_is_internal() -> None:
    """Local/259 rings SIP/ddddd, which then dials SIP/uuuuu (254): no outside party.

    Asterisk 11 sends no Linkedid: Dial and LocalBridge join the five channels into one
    call, which the first channel's Hangup closes without leaving state behind.
    """
    mapper = AmiCallMapper()
    messages = recorded("originate_with_events.yaml")
    assert sum(m["event"] == "Newchannel" for m in messages) == 4
    assert replay(mapper, messages) == []
    assert mapper.internal_calls == 1 and mapper.open_calls == 0


def test_recorded_feature_code_from_an_extension_is_internal() -> None:
    mapper = AmiCallMapper()
    assert replay(mapper, recorded("agent_not_in_pause.yaml")) == []
    assert mapper.internal_calls == 1 and mapper.open_calls == 0


def test_recorded_extension_is_not_a_trunk_by_its_short_number_but_by_its_endpoint() -> None:
    """The same recorded call, on a PBX where SIP peer uuuuu is the provider trunk: the
    second Dial goes out, so the call is outbound, placed by extension 259 and answered
    (the far end's channel goes Up)."""
    mapper = AmiCallMapper(PbxLayout.of(trunks=["uuuuu"]))
    signals = replay(mapper, recorded("originate_with_events.yaml"))
    placed, answered, ended = signals
    assert placed.phase == "placed" and placed.extension == "259"
    assert answered.phase == "answered" and answered.extension == "259"
    assert ended.direction == "outbound" and ended.cause is None


# -- Asterisk 13+ -----------------------------------------------------------------------

TRUNK = channel(
    "PJSIP/telekom-0000000a",
    "1700.1",
    "1700.1",
    "11880",
    CallerIDName="Auskunft",
    Context="from-trunk",
    Exten="4930123450",
)
PHONE_201 = channel("PJSIP/201-0000000b", "1700.2", "1700.1", "201", Context="from-internal")


def test_inbound_from_a_short_number_rings_by_its_trunk_context() -> None:
    """A five-digit caller (11880) on the trunk: inbound, whatever the length."""
    mapper = AmiCallMapper()
    signals = replay(
        mapper,
        [
            new(TRUNK),
            new(PHONE_201),
            dial(TRUNK, PHONE_201, "201"),
            {"event": "DialEnd", **TRUNK, "destcalleridnum": "201", "dialstatus": "ANSWER"},
            hangup(PHONE_201),
            hangup(TRUNK),
        ],
    )
    ring, answered, ended = signals
    assert ring.phase == "ring" and ring.number_raw == "11880" and ring.caller_name == "Auskunft"
    assert ring.line == "4930123450" and ring.extension == "201"
    assert answered.extension == "201" and ended.direction == "inbound"


def test_inbound_recognised_by_trunk_endpoint_in_any_context() -> None:
    trunk = {**TRUNK, "context": "kunden-rein"}
    mapper = AmiCallMapper(PbxLayout.of(trunks=["telekom"]))
    (ring,) = replay(mapper, [new(trunk), dial(trunk, PHONE_201, "201")])
    assert ring.phase == "ring"
    assert replay(AmiCallMapper(), [new(trunk), dial(trunk, PHONE_201, "201")]) == []


def test_outbound_from_a_long_extension_through_the_trunk() -> None:
    """Extension 200101 (six digits) dials out through SIP peer telekom."""
    me = channel(
        "SIP/200101-0000001c",
        "1800.5",
        "1800.5",
        "200101",
        Context="from-internal",
        Exten="00891234567",
    )
    out = channel("SIP/telekom-0000001d", "1800.6", "1800.5", "0891234567", Context="from-trunk")
    mapper = AmiCallMapper()
    signals = replay(
        mapper,
        [
            new(me),
            dial(me, out, "telekom/0891234567"),
            {"event": "Newstate", **out, "channelstate": "6"},
            {"event": "BridgeEnter", **out},
            hangup(out),
            hangup(me),
        ],
    )
    placed, answered, ended = signals
    assert placed.phase == "placed" and placed.number_raw == "0891234567"
    assert placed.extension == "200101" and answered.extension == "200101"
    assert ended.direction == "outbound" and ended.cause is None


def test_internal_call_between_phones_records_nothing() -> None:
    me = channel(
        "PJSIP/202-00000003", "1900.1", "1900.1", "202", Context="from-internal", Exten="201"
    )
    other = {**PHONE_201, "uniqueid": "1900.2", "linkedid": "1900.1"}
    mapper = AmiCallMapper()
    messages = [
        new(me),
        new(other),
        dial(me, other, "201"),
        {"event": "BridgeEnter", **other},
        hangup(other),
        hangup(me),
    ]
    assert replay(mapper, messages) == []
    assert mapper.internal_calls == 1 and mapper.open_calls == 0


def test_click_to_dial_rings_own_phone_first_then_goes_out() -> None:
    """An Originate: Local/201 rings the own phone (internal so far), then dials out."""
    local1 = channel(
        "Local/201@from-internal-00000001;1",
        "2000.1",
        "2000.1",
        "201",
        Context="from-internal",
        Exten="0891234567",
    )
    local2 = channel(
        "Local/201@from-internal-00000001;2", "2000.2", "2000.1", "201", Context="from-internal"
    )
    phone = {**PHONE_201, "uniqueid": "2000.3", "linkedid": "2000.1"}
    out = channel("PJSIP/telekom-00000004", "2000.4", "2000.1", "", Context="from-trunk")
    mapper = AmiCallMapper(PbxLayout.of(trunks=["telekom"]))
    signals = replay(
        mapper,
        [
            new(local1),
            new(local2),
            dial(local2, phone, "201"),
            {"event": "BridgeEnter", **phone},  # own phone picked up: not yet a call
            dial(local1, out, "0891234567@telekom"),
            {"event": "DialEnd", **local1, "destcalleridnum": "", "dialstatus": "BUSY"},
            hangup(out, "17"),
            hangup(local1),
        ],
    )
    placed, ended = signals
    assert placed.number_raw == "0891234567" and placed.extension == "201"
    assert ended.cause == "busy" and ended.direction == "outbound"


def test_inbound_through_a_ring_group_of_local_channels() -> None:
    """Trunk -> Local/600 (ring group) -> PJSIP/201: rings once; the phone answers."""
    group = channel(
        "Local/600@from-internal-00000002;1", "1700.3", "1700.1", "", Context="from-internal"
    )
    mapper = AmiCallMapper()
    signals = replay(
        mapper,
        [
            new(TRUNK),
            new(group),
            dial(TRUNK, group, "Local/600@from-internal"),
            {"event": "Newstate", **group, "channelstate": "6"},  # a Local channel: no one yet
            dial(group, PHONE_201, "201"),
            {"event": "BridgeEnter", **PHONE_201},
            hangup(TRUNK),
        ],
    )
    ring, answered, ended = signals
    assert ring.phase == "ring" and ring.extension is None
    assert answered.extension == "201" and ended.cause is None


def test_inbound_to_voicemail() -> None:
    mapper = AmiCallMapper()
    signals = replay(
        mapper,
        [
            new(TRUNK),
            dial(TRUNK, PHONE_201, "201"),
            {"event": "DialEnd", **TRUNK, "dialstatus": "NOANSWER"},
            {"event": "Newexten", **TRUNK, "application": "VoiceMail"},
            hangup(TRUNK),
        ],
    )
    assert [s.phase for s in signals] == ["ring", "ended"]
    assert signals[-1].cause == "voicemail"


def test_call_seen_from_its_dial_only() -> None:
    """Connected mid-call: DialBegin carries the caller's channel, enough to start it."""
    (ring,) = AmiCallMapper().feed(dial(TRUNK, PHONE_201, "201"))
    assert ring.phase == "ring" and ring.number_raw == "11880"


@pytest.mark.parametrize(
    ("name", "endpoint"),
    [
        ("PJSIP/telekom-0000002a", "telekom"),
        ("PJSIP/sipgate-trunk-0000002a", "sipgate-trunk"),
        ("SIP/ddddd-00000000<MASQ>", "ddddd"),
        ("DAHDI/i1/0891234-1", "i1/0891234"),
        ("Local/259@default-00000000;1", None),
        ("", None),
    ],
)
def test_endpoint_of_channel(name: str, endpoint: str | None) -> None:
    assert endpoint_of(name) == endpoint


@pytest.mark.parametrize(
    ("dialstring", "out"),
    [
        ("0891234567@telekom", "0891234567"),
        ("telekom/0891234567", "0891234567"),
        ("telekom/sip:+49891234567@sip.example.net", "+49891234567"),
        ("201", None),
        ("201&202", None),
        ("600@from-internal", None),  # into Local/600@from-internal: a ring group
    ],
)
def test_number_dialled_out_by_dial_string(dialstring: str, out: str | None) -> None:
    me = channel("PJSIP/201-00000001", "1.1", "1.1", "201", Context="from-internal")
    dest = "Local/600@from-internal-0001;1" if "from-internal" in dialstring else "PJSIP/x-01"
    phone = channel(dest, "1.2", "1.1", "202", Context="from-internal")
    assert PbxLayout().number_dialled_out(dial(me, phone, dialstring)) == out


def test_configured_trunks_decide_which_dial_strings_go_out() -> None:
    me = channel("PJSIP/201-00000001", "1.1", "1.1", "201", Context="from-internal")
    phone = channel("PJSIP/alarm-00000002", "1.2", "1.1", "", Context="from-internal")
    layout = PbxLayout.of(trunks=["telekom"])
    assert layout.number_dialled_out(dial(me, phone, "0891234567@alarm")) is None
    assert layout.number_dialled_out(dial(me, phone, "0891234567@telekom")) == "0891234567"


def test_trunks_and_contexts_come_from_the_settings() -> None:
    server = {"host": "pbx.lan", "username": "kartei", "secret": "geheim"}
    settings = settings_from_dict(
        {
            "telephony": {
                "asterisk": [{**server, "trunks": ["telekom"], "inbound_contexts": ["rein"]}]
            }
        }
    )
    (monitor,) = telephony_adapters(settings)
    assert isinstance(monitor, AsteriskMonitor)
    assert monitor.mapper.layout == PbxLayout(frozenset({"telekom"}), frozenset({"rein"}))
    (plain,) = telephony_adapters(settings_from_dict({"telephony": {"asterisk": [server]}}))
    assert (
        isinstance(plain, AsteriskMonitor) and "from-trunk" in plain.mapper.layout.inbound_contexts
    )
    with pytest.raises(ConfigError, match="trunks"):
        settings_from_dict({"telephony": {"asterisk": [{**server, "trunks": ["a b"]}]}})
