"""Hostile input for every parser of outside input: arbitrary bytes and structured junk near
the real formats. Each must answer or refuse with its documented error (`targets`), within
a deadline. The long coverage-guided run is `bench/fuzz.py`; what it found is pinned here
as @example inputs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fuzz import targets

# A few seconds per target in CI; the deadline catches a parser that loops or backtracks.
# A longer run by hand: KARTEI_FUZZ_EXAMPLES=5000 pytest tests/fuzz/test_parsers.py
EXAMPLES = int(os.environ.get("KARTEI_FUZZ_EXAMPLES", "120"))
FAST = settings(
    max_examples=EXAMPLES,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- building blocks ---------------------------------------------------------------

NAMES = st.sampled_from(
    [
        "Subject",
        "From",
        "To",
        "Cc",
        "Date",
        "Message-ID",
        "Content-Type",
        "Content-Disposition",
        "Content-Transfer-Encoding",
        "MIME-Version",
        "Received",
        "X-Fax",
        "In-Reply-To",
    ]
)
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "multipart/mixed; boundary=b",
            'multipart/alternative; boundary="b"',
            "text/plain; charset=utf-8",
            'text/plain; charset="x-unknown"',
            'text/plain; charset="ut\\x00f-8"',
            "text/html; charset=iso-8859-1",
            'application/pdf; name="=?utf-8?b?ZmF4LnBkZg==?="',
            "attachment; filename*=utf-8''..%2F..%2Fetc%2Fpasswd",
            "attachment; filename*0*=us-ascii'en'a; filename*1=b",
            "base64",
            "quoted-printable",
            "message/rfc822",
            "=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?b?8g==?=",
            "=?x-bad?q?abc?=",
            'Eva <eva@example.com>, "Muster, Max" <max@example.com>',
            "<a@b>",
            "Mon, 2 Mar 2026 09:00:00 +0100",
            "Mon, 99 Foo 99999 99:99:99 +9999",
        ]
    ),
)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def emails(draw: st.DrawFn) -> bytes:
    """Header blocks and bodies with boundaries, nested parts and odd encodings."""
    eol = draw(LINE_ENDS)

    def part(depth: int) -> str:
        count = draw(st.integers(0, 5))
        head = "".join(f"{draw(NAMES)}: {draw(VALUES)}{eol}" for _ in range(count))
        if depth < 3 and draw(st.booleans()):
            boundary = draw(st.sampled_from(["b", "b2", "=_x", ""]))
            head += f'Content-Type: multipart/mixed; boundary="{boundary}"{eol}'
            parts = [part(depth + 1) for _ in range(draw(st.integers(0, 3)))]
            close = draw(st.sampled_from([f"--{boundary}--", f"--{boundary}", ""]))
            body = "".join(f"--{boundary}{eol}{p}{eol}" for p in parts) + close + eol
        else:
            body = draw(st.text(max_size=200))
        return head + draw(st.sampled_from([eol, "", " " + eol])) + body

    raw = part(0).encode("utf-8", "surrogatepass")
    return raw + draw(st.binary(max_size=20))


LINE_KINDS = st.sampled_from(["RING", "CALL", "CONNECT", "DISCONNECT", "", "RINGX"])
STAMPS = st.one_of(
    st.sampled_from(["02.03.26 09:00:00", "31.02.26 25:61:61", "29.02.24 23:59:59", ""]),
    st.text(max_size=20),
)
FIELDS = st.one_of(st.from_regex(r"[0-9+#*]{0,20}", fullmatch=True), st.text(max_size=30))


@st.composite
def call_monitor(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        fields = [draw(STAMPS), draw(LINE_KINDS), draw(st.from_regex(r"\d{0,7}", fullmatch=True))]
        fields += [draw(FIELDS) for _ in range(draw(st.integers(0, 6)))]
        lines.append(";".join(fields) + draw(st.sampled_from([";", ""])))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    return bytes([draw(st.integers(0, 255))]) + eol.join(lines).encode("utf-8", "surrogatepass")


AMI_KEYS = st.sampled_from(
    [
        "Event",
        "Uniqueid",
        "Linkedid",
        "Channel",
        "DestChannel",
        "DestUniqueid",
        "CallerIDNum",
        "ConnectedLineNum",
        "Context",
        "Exten",
        "Timestamp",
        "Cause",
        "DialStatus",
        "Uniqueid1",
        "Uniqueid2",
        "SubEvent",
        "DialString",
    ]
)
AMI_VALUES = st.one_of(
    st.sampled_from(
        [
            "Newchannel",
            "DialBegin",
            "DialEnd",
            "Hangup",
            "BridgeEnter",
            "Newstate",
            "LocalBridge",
            "Dial",
            "1",
            "2",
            "PJSIP/trunk-0001",
            "SIP/100-0002",
            "ANSWER",
            "BUSY",
            "16",
            "1717171717.123",
            "from-trunk",
            "",
            "Begin",
            "End",
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def ami_stream(draw: st.DrawFn) -> bytes:
    messages = []
    for _ in range(draw(st.integers(1, 10))):
        pairs = [f"{draw(AMI_KEYS)}: {draw(AMI_VALUES)}" for _ in range(draw(st.integers(0, 8)))]
        messages.append("\r\n".join(pairs) + "\r\n\r\n")
    return bytes([draw(st.integers(0, 255))]) + "".join(messages).encode("utf-8", "surrogatepass")


WEBHOOK_KEYS = st.sampled_from(
    [
        "event",
        "callId",
        "call_id",
        "from",
        "to",
        "direction",
        "user[]",
        "user",
        "cause",
        "type",
        "duration",
        "peer",
        "answeringNumber",
    ]
)
WEBHOOK_VALUES = st.one_of(
    st.sampled_from(
        [
            "newCall",
            "answer",
            "hangup",
            "IncomingCall",
            "OutgoingCall",
            "CallAccepted",
            "HungUp",
            "in",
            "out",
            "anonymous",
            "4922198765",
            "0221987654",
            "busy",
            "missed",
            "-1",
            "1e9",
            "normalClearing",
            "abc123",
        ]
    ),
    st.text(max_size=40),
)


@st.composite
def webhook_bodies(draw: st.DrawFn) -> bytes:
    import json
    from urllib.parse import urlencode

    pairs = draw(st.lists(st.tuples(WEBHOOK_KEYS, WEBHOOK_VALUES), max_size=10))
    if draw(st.booleans()):
        return urlencode(pairs).encode("utf-8", "surrogatepass")
    json_values = st.one_of(WEBHOOK_VALUES, st.integers(), st.none(), st.lists(WEBHOOK_VALUES))
    data = {k: draw(json_values) for k, _ in pairs}
    return json.dumps(data if draw(st.booleans()) else list(data)).encode()


CSV_CELLS = st.one_of(
    st.sampled_from(
        [
            "Vorname",
            "Nachname",
            "Firma",
            "E-Mail-Adresse",
            "Telefon geschäftlich",
            "Mobiltelefon",
            "Straße",
            "PLZ",
            "Ort",
            "Notizen",
            "Kategorien",
            "Eva",
            "Muster",
            "eva@example.com",
            "0221 98765-0",
            "+49 (0)30 123456",
            "ä;ö",
            '"quoted"',
            '=HYPERLINK("x")',
            "",
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    rows = draw(st.lists(st.lists(CSV_CELLS, max_size=8), min_size=1, max_size=8))
    text = "\r\n".join(delimiter.join(r) for r in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, "replace")


VCARD_LINES = st.one_of(
    st.sampled_from(
        [
            "VERSION:3.0",
            "VERSION:2.1",
            "N:Muster;Eva;;;",
            "FN:Eva Muster",
            "ORG:Acme, GmbH",
            "TEL;TYPE=WORK:+49 221 98765",
            "EMAIL;TYPE=INTERNET:eva@example.com",
            "ADR;TYPE=WORK:;;Hauptstr. 1;Köln;;50667;DE",
            "NOTE:a\\nb",
            "CATEGORIES:A,B",
            "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ",
            "item1.TEL:0221",
            "N;CHARSET=UTF-8:",
            "BEGIN:VCARD",
            "END:VCARD",
            " folded",
            "TEL;VALUE=uri:tel:+49-221",
            "X-;:",
            ":",
        ]
    ),
    st.text(max_size=40),
)


@st.composite
def vcard_files(draw: st.DrawFn) -> bytes:
    cards = []
    for _ in range(draw(st.integers(1, 4))):
        body = draw(st.lists(VCARD_LINES, max_size=10))
        end = ["END:VCARD"] if draw(st.booleans()) else []
        cards.append("\r\n".join(["BEGIN:VCARD", *body, *end]))
    return "\r\n".join(cards).encode("utf-8", "surrogatepass")


PROFILE_KEYS = st.sampled_from(
    [
        "name",
        "match_from",
        "match_subject",
        "match_body",
        "sender",
        "receiver",
        "pages",
        "attachment",
        "other",
    ]
)
PATTERNS = st.sampled_from(
    [
        '"(?P<number>\\\\d+)"',
        '["(?P<number>[0-9 ]+)"]',
        '["(?P<pages>\\\\d+) Seiten"]',
        '"(a+)+$"',
        '"["',
        '["x"]',
        "1",
        "[]",
        '"FRITZ"',
        '"(?P<number>.*)"',
        '"\\\\"',
        "true",
    ]
)


@st.composite
def profile_files(draw: st.DrawFn) -> bytes:
    blocks = []
    for _ in range(draw(st.integers(0, 3))):
        lines = [f"{draw(PROFILE_KEYS)} = {draw(PATTERNS)}" for _ in range(draw(st.integers(0, 6)))]
        blocks.append("[[profile]]\n" + "\n".join(lines))
    return "\n".join(blocks).encode() + draw(st.binary(max_size=10))


# -- the properties ----------------------------------------------------------------


@FAST
@given(st.one_of(emails(), st.binary(max_size=2000)))
@example(b'Content-Type: text/plain; charset="ut\x00f-8"\n\nBody')  # bench/fuzz.py, mail
def test_the_quick_mime_reader_builds_the_standard_tree(data: bytes) -> None:
    targets.mime_tree(data)


@FAST
@given(st.one_of(emails(), st.binary(max_size=2000)))
@example(b'Content-Type: text/plain; charset="ut\x00f-8"\n\nBody')  # bench/fuzz.py, mail
def test_an_email_parses_or_is_refused_as_unparseable(data: bytes) -> None:
    targets.mail(data)


@FAST
@given(st.one_of(emails(), st.binary(max_size=2000)))
def test_a_fax_email_parses_or_is_refused(data: bytes) -> None:
    targets.fax(data)


@FAST
@given(st.one_of(profile_files(), st.binary(max_size=500)))
def test_a_fax_profiles_file_loads_or_says_why(data: bytes) -> None:
    targets.fax_profiles(data)


@FAST
@given(st.one_of(call_monitor(), st.binary(max_size=2000)))
def test_the_call_monitor_skips_what_is_not_a_line(data: bytes) -> None:
    targets.fritzbox(data)


@FAST
@given(st.one_of(ami_stream(), st.binary(max_size=2000)))
def test_ami_maps_any_event_stream_or_drops_the_peer(data: bytes) -> None:
    targets.ami(data)


@FAST
@given(st.one_of(webhook_bodies(), st.binary(max_size=2000)))
def test_a_webhook_body_is_a_signal_or_a_400(data: bytes) -> None:
    targets.webhook(data)


@FAST
@given(st.one_of(csv_files(), st.binary(max_size=2000)))
def test_a_csv_import_plans_or_says_why(data: bytes) -> None:
    targets.csv_import(data)


@FAST
@given(st.one_of(vcard_files(), st.binary(max_size=2000)))
def test_a_vcard_import_plans_or_says_why(data: bytes) -> None:
    targets.vcard_import(data)


@settings(FAST, max_examples=max(1, EXAMPLES // 3))
@given(st.binary(max_size=3000), st.integers(0, 2999))
def test_a_damaged_xlsx_import_plans_or_says_why(noise: bytes, at: int) -> None:
    """A real workbook with bytes overwritten, and plain junk: openpyxl's own errors
    (zip, XML, key errors) must come out as the import's FileFormatError."""
    good = _workbook()
    at %= len(good)
    targets.xlsx_import(good[:at] + noise[:64] + good[at + len(noise[:64]) :])
    targets.xlsx_import(noise)


_BOOK: list[bytes] = []


def _workbook() -> bytes:
    if not _BOOK:
        from bench.fuzz import _xlsx

        _BOOK.append(_xlsx())
    return _BOOK[0]
