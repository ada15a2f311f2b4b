"""The demo's year as a script (pure), and its mail, faxes and calls read by Kartei's own
parsers: what the demo sends is what the intake paths understand."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from adapters.fax.parsing import parse_fax
from adapters.fax.profiles import load_profiles
from adapters.mail.parsing import parse_email
from adapters.telephony.fritzbox_parsing import parse_line
from adapters.telephony.model import CallTracker
from adapters.telephony.webhook_parsing import read_body, sipgate_signal
from hub.demo import customers, firm
from hub.demo.callmonitor import lines
from hub.demo.history import year
from hub.demo.messages import fax_message, mail_message
from hub.demo.persons import box_number, persons
from hub.demo.script import Fax, Mail, Year
from hub.demo.sipgate import pushes
from hub.events.calls import CallEnded
from hub.phone import normalize

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=TZ)
WINDOW = timedelta(days=90)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def script() -> Year:
    return year(customers(300), NOW)


def known_numbers() -> set[str]:
    return {n for p in persons(customers(300)) for n in p.phones}


def test_the_same_moment_gives_the_same_year(script: Year) -> None:
    assert year(customers(300), NOW) == script
    later = year(customers(300), NOW + timedelta(days=1))
    assert [m.subject for m in later.mails if isinstance(m, Mail)] == [
        m.subject for m in script.mails if isinstance(m, Mail)
    ]
    assert later.mails[0].at == script.mails[0].at + timedelta(days=1)


def test_a_year_with_more_in_the_last_days(script: Year) -> None:
    days = sorted({c.at.date() for c in script.calls})
    assert NOW.date() - days[0] > timedelta(days=330)
    assert all(item.at < NOW for item in [*script.mails, *script.calls])
    recent = [c for c in script.calls if NOW - c.at < timedelta(days=14)]
    assert len(recent) / 14 > 3 * len(script.calls) / 365
    assert 250 < len(script.mails) < 450 and 300 < len(script.calls) < 500
    assert sum(isinstance(m, Fax) for m in script.mails) >= 4


def test_customers_missed_calls_are_yesterdays_only(script: Year) -> None:
    known = {box_number(n) for n in known_numbers()}
    missed = [c for c in script.calls if c.inbound and not c.answered and c.number in known]
    assert {c.at.date() for c in missed} == {NOW.date() - timedelta(days=1)}
    assert {c.number for c in missed} == {box_number(p.phones[-1]) for p in script.missed_yesterday}
    assert len(script.missed_yesterday) == 3


def test_only_one_customer_complains_three_times_within_the_window(script: Year) -> None:
    complaints: dict[str, list[datetime]] = defaultdict(list)
    senders = {p.email: p.contact_id for p in persons(customers(300))}
    faxes = {p.fax: p.contact_id for p in persons(customers(300)) if p.fax}
    for item in script.mails:
        if item.mood == "complaint":
            who = faxes[item.number] if isinstance(item, Fax) else senders[item.sender]
            complaints[who].append(item.at)
    crossing = {
        who
        for who, times in complaints.items()
        if any(sum(0 <= (t - first).days < WINDOW.days for t in times) >= 3 for first in times)
    }
    assert script.at_risk is not None and crossing == {script.at_risk.contact_id}
    assert max(len(t) for who, t in complaints.items() if who not in crossing) == 1


def test_mail_reads_as_sent_with_its_own_date(script: Year) -> None:
    for mail in [m for m in script.mails if isinstance(m, Mail)][-40:]:
        parsed = parse_email(mail_message(mail))
        assert (parsed.sender, parsed.to, parsed.subject) == (mail.sender, (mail.to,), mail.subject)
        assert parsed.date == mail.at and parsed.message_id == mail.message_id
        assert parsed.in_reply_to == mail.in_reply_to


def test_faxes_read_by_the_fritzbox_profile(script: Year) -> None:
    profiles = load_profiles()
    for fax in [m for m in script.mails if isinstance(m, Fax)]:
        read = parse_fax(fax_message(fax), profiles)
        assert read.profile == "fritzbox" and read.kind == "pdf"
        assert normalize(read.sender_raw, "DE") == normalize(fax.number, "DE")
        assert read.mail.date == fax.at


def test_call_monitor_lines_as_the_box_driver_reads_them(script: Year) -> None:
    tracker = CallTracker(
        firm.BOX, lambda raw: normalize(raw, "DE", firm.AREA_CODE), ids_reused=True
    )
    ended: list[CallEnded] = []
    for i, call in enumerate(script.calls):
        for line in lines(call, i % 10):
            signal = parse_line(line.encode(), TZ)
            assert signal is not None
            ended += [c.event for c in tracker.feed(signal) if isinstance(c.event, CallEnded)]
    assert len(ended) == len(script.calls)
    for call, event in zip(script.calls, ended, strict=True):
        assert event.started_at == call.at
        assert event.direction == ("inbound" if call.inbound else "outbound")
        assert event.cause == ("answered" if call.answered else "missed")
        assert event.duration_seconds == call.seconds


def test_known_callers_resolve_from_what_the_box_sends(script: Year) -> None:
    known = known_numbers()
    answered = [c for c in script.calls if c.answered and c.inbound]
    for call in answered:
        assert normalize(call.number, "DE", firm.AREA_CODE) in known


def test_sipgate_pushes_as_the_webhook_reads_them(script: Year) -> None:
    for call in script.live:
        signals = []
        for fields in pushes(call):
            body = urlencode(fields, doseq=True).encode()
            signals.append(sipgate_signal(read_body(body, FORM), NOW))
        phases = [s.phase for s in signals if s is not None]
        start = "ring" if call.inbound else "placed"
        assert phases == ([start, "answered", "ended"] if call.answered else [start, "ended"])
        assert all(s is not None and s.number_raw == call.number for s in signals)
