"""The call state machine and the call monitor parser, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.telephony.fritzbox_parsing import (
    CallMonitorLineError,
    LineFramer,
    Overlong,
    parse_line,
)
from adapters.telephony.model import CallTracker, Signal
from hub.phone import normalize

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tracker(**kwargs: object) -> CallTracker:
    return CallTracker("pbx", lambda raw: normalize(raw, "DE"), **kwargs)  # type: ignore[arg-type]


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_disconnect_without_connect_is_missed_and_repeats_add_nothing() -> None:
    t = tracker()
    ring = Signal("ring", "c1", at(0), number_raw="030 1234567", line="3012345")
    first = t.feed(ring)
    assert [c.key for c in first] == ["pbx:c1:ring"] and t.feed(ring) == []
    (ended,) = t.feed(Signal("ended", "c1", at(9)))
    assert ended.event.cause == "missed" and ended.event.number == "+49301234567"
    assert ended.stream == "call-pbx-c1" and ended.event.duration_seconds == 0
    assert t.feed(Signal("ended", "c1", at(9))) == []


def test_out_of_order_hangup_before_ring_still_records_both_once() -> None:
    t = tracker()
    (ended,) = t.feed(Signal("ended", "c2", at(30), cause="busy"))
    assert ended.event.cause == "busy"
    (ringing,) = t.feed(Signal("ring", "c2", at(0), number_raw="+4930111222"))
    assert ringing.key == "pbx:c2:ring" and ringing.event.caller == "+4930111222"


def test_answer_without_ring_then_end_computes_duration() -> None:
    t = tracker()
    (answered,) = t.feed(Signal("answered", "c3", at(5), extension="21"))
    (ended,) = t.feed(Signal("ended", "c3", at(65)))
    assert answered.event.extension == "21"
    assert ended.event.cause == "answered" and ended.event.duration_seconds == 60


def test_calls_left_ringing_expire_as_unknown() -> None:
    clock = Clock()
    t = tracker(ring_timeout=30, clock=clock)
    t.feed(Signal("ring", "c4", at(0), number_raw="0301234567"))
    clock.now = 29
    assert t.expire() == []
    clock.now = 31
    (ended,) = t.expire()
    assert ended.event.cause == "unknown" and t.open_calls == 0
    assert t.feed(Signal("ended", "c4", at(40))) == []  # a late hang-up adds nothing


def test_reused_ids_make_distinct_calls_and_close_a_forgotten_one() -> None:
    t = tracker(ids_reused=True)
    t.feed(Signal("ring", "0", at(0)))
    closed, ringing = t.feed(Signal("ring", "0", at(100)))
    assert closed.event.cause == "unknown" and closed.event.call_id == "0-20260302090000"
    assert ringing.event.call_id == "0-20260302090140"


def test_explicit_cause_wins() -> None:
    t = tracker()
    t.feed(Signal("ring", "c5", at(0)))
    (ended,) = t.feed(Signal("ended", "c5", at(20), cause="voicemail"))
    assert ended.event.cause == "voicemail" and not ended.event.missed


BERLIN = ZoneInfo("Europe/Berlin")


def test_parses_each_kind_of_line() -> None:
    ring = parse_line(b"02.03.26 09:00:00;RING;0;0301234567;3012345;SIP0;", BERLIN)
    assert ring is not None and ring.phase == "ring" and ring.number_raw == "0301234567"
    assert ring.at == datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN) and ring.trunk == "SIP0"
    call = parse_line("02.03.26 09:00:00;CALL;1;12;3012345;0891234;SIP1;", BERLIN)
    assert call is not None and (call.phase, call.extension, call.number_raw) == (
        "placed",
        "12",
        "0891234",
    )
    conn = parse_line("02.03.26 09:00:03;CONNECT;1;12;0891234;", BERLIN)
    assert conn is not None and conn.phase == "answered"
    end = parse_line("02.03.26 09:01:03;DISCONNECT;1;60;", BERLIN)
    assert end is not None and end.duration == 60
    assert parse_line(b"\r\n", BERLIN) is None


@pytest.mark.parametrize(
    "line",
    [
        "hello",
        "02.03.26 09:00:00;HOLD;0;",
        "99.99.26 09:00:00;RING;0;1;2;SIP0;",
        "02.03.26 09:00:00;RING;x;1;2;SIP0;",
        "02.03.26 09:00:00;DISCONNECT;0;-5;",
        "02.03.26 09:00:00;RING;0;<script>;2;SIP0;",
        "02.03.26 09:00:00;RING;0;",
    ],
)
def test_rejects_what_is_not_the_format(line: str) -> None:
    with pytest.raises(CallMonitorLineError):
        parse_line(line, BERLIN)


def test_framer_handles_partial_crlf_lf_and_overlong_lines() -> None:
    f = LineFramer(max_line=10)
    assert f.feed(b"abc") == []
    assert f.feed(b"def\r\nxy\nz") == [b"abcdef", b"xy"]
    assert f.feed(b"z" * 20) == []
    assert f.feed(b"zz\nok\n") == [Overlong(23), b"ok"]
