"""The quick MIME reader builds the very tree the standard parser builds, or defers to it."""

from __future__ import annotations

import email
import random
import re
from email import policy
from email.message import Message
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.mail import mime
from bench.imap_sync import message
from tests.mail import messages
from tests.mail.test_parsing import CORPUS


def tree(msg: Message) -> object:
    """Everything the parser decided: headers, payloads, preamble, epilogue, defects."""
    payload = msg.get_payload()
    fields = {k: v for k, v in vars(msg).items() if k not in ("_payload", "defects")}
    defects = [(type(d).__name__, str(d)) for d in msg.defects]
    parts = [tree(cast(Message, p)) for p in payload] if isinstance(payload, list) else payload
    return fields, defects, parts


def corpus() -> list[bytes]:
    return [path.read_bytes() for path in CORPUS]


def generated() -> list[bytes]:
    rng = random.Random(4)
    bench = [message(n, rng) for n in range(60)]
    html = "<p>Guten Tag</p>\r\n<p>Gr\u00fc\u00dfe</p>"
    suite = [
        messages.simple(1),
        messages.simple(2, html=html),
        messages.simple(3, attachment=b"%PDF-1.4\n" * 500, html=html),
        messages.simple(4, body="Zeile\n\n--\nKunde\n"),
    ]
    return [*bench, *suite, *EDGES]


# Well-formed, but at the edges of what the quick reader cuts itself.
EDGES = [
    b"Subject: preamble and epilogue\nContent-Type: multipart/mixed; boundary=b\n\n"
    b"This is a preamble.\n\n--b  \t\nContent-Type: text/plain\n\nOne\n\n--b\n\nTwo\n"
    b"--b-- \nEpilogue line\n\nmore\n",
    b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno final newline\n--b--",
    b"Content-Type: multipart/mixed; boundary=b\n\n\n--b\n\nempty preamble line\n--b--\n\n",
    b"Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
    b"Content-Type: multipart/alternative; boundary=inner\n\n--inner\n\nplain\n--inner\n"
    b"Content-Type: text/html\n\n<p>html</p>\n--inner--\n\n\n--outer\n"
    b"Content-Type: text/plain\n\nnot --outer at a line start\n--outerX\n--outer--\n",
    b"From sender@example.com Sat Mar  1 12:00:00 2025\nSubject: unix from\n\nBody\n",
    b"Subject: folded\n  continued\nX-Empty:\n\n",
]


def variants(raw: bytes) -> list[bytes]:
    """The message with LF and with CRLF line ends (IMAP serves CRLF)."""
    lf = raw.replace(b"\r\n", b"\n")
    return [raw, lf, lf.replace(b"\n", b"\r\n")]


@pytest.mark.parametrize("source", ["corpus", "generated"])
def test_the_same_tree_and_the_same_facts_as_the_standard_parser(source: str) -> None:
    raws = corpus() if source == "corpus" else generated()
    assert raws
    for raw in raws:
        for variant in variants(raw):
            full = email.message_from_bytes(variant, policy=policy.compat32)
            assert tree(mime.read_message(variant)) == tree(full)


def test_the_quick_path_takes_the_common_shapes() -> None:
    rng = random.Random(4)
    simple, with_attachment = message(1, rng), message(10, rng)
    html = messages.simple(2, html="<p>Hallo</p>", attachment=b"%PDF")
    for raw in (simple, with_attachment, html, raw_crlf(with_attachment)):
        assert mime._read(raw.decode("ascii", "surrogateescape"), 0) is not None


def test_what_is_not_plainly_well_formed_goes_to_the_standard_parser() -> None:
    no_close = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nText\n"
    no_blank_line = b"Subject: x\nnot a header\n\nBody\n"
    doubled = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nText\n--b--\n"
    attached = b"Content-Type: message/rfc822\n\nSubject: inner\n\nBody\n"
    for raw in (no_close, no_blank_line, doubled, attached):
        assert mime._read(raw.decode("ascii"), 0) is None
        full = email.message_from_bytes(raw, policy=policy.compat32)
        assert tree(mime.read_message(raw)) == tree(full)


def raw_crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# Pieces of lines near a boundary line: the delimiter, its close, blanks, CRs, look-alikes.
_PIECES = ["--b", "--b--", "--bb", "-", "--", " ", "\t", "\r", "x", "Text"]
_LINE = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)
_LINES = st.lists(_LINE, min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(lines=_LINES, ending=st.sampled_from(["\n", "\r\n"]))
def test_boundary_lines_as_the_regular_expression_finds_them(lines: list[str], ending: str) -> None:
    text = "Content-Type: multipart/mixed; boundary=b\n\n" + ending.join(lines)
    pattern = re.compile(r"--b(--)?[ \t]*\r?$", re.MULTILINE)
    start = text.index("\n\n") + 2
    expected = [
        (m.start(), m.end(), bool(m.group(1)))
        for m in pattern.finditer(text, start, len(text))
        if m.start() == start or text[m.start() - 1] == "\n"
    ]
    assert list(mime._boundary_lines(text, start, len(text), "b")) == expected
    raw = text.encode()
    full = email.message_from_bytes(raw, policy=policy.compat32)
    assert tree(mime.read_message(raw)) == tree(full)
