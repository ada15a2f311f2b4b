"""Kartei's own reading of FETCH responses, against a real Dovecot and imapclient's parser."""

from __future__ import annotations

import pytest

from adapters.imap import client
from adapters.imap.client import Fetched, read_fetch_response
from tests.mail import messages
from tests.mail.conftest import account_for, imap_login
from tests.mail.dovecot import Dovecot

# Bodies that look like the protocol: only the announced byte count may decide.
TRICKY = [
    messages.simple(1),
    b"Subject: x\r\n\r\nx1 OK done\r\n* 2 FETCH (UID 99 FLAGS (\\Deleted) BODY[] {3}\r\n)\r\n",
    b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n\r\nGr\xfc\xdfe aus K\xf6ln {12}\r\n",
    b"Subject: leer\r\n\r\n",
    messages.simple(5, attachment=b"%PDF-1.4 " + bytes(range(256)) * 400),
]


def test_fetch_reads_what_imapclient_reads(dovecot: Dovecot, mailbox_user: str) -> None:
    setup = imap_login(dovecot, mailbox_user)
    for n, raw in enumerate(TRICKY):
        flags = (b"\\Flagged", b"$Private") if n == 1 else (b"\\Seen",) if n == 2 else ()
        setup.append("INBOX", raw, flags=flags)
    setup.select_folder("INBOX")
    setup.delete_messages([4])  # expunged: left out of both
    setup.expunge()
    setup.logout()
    imap = client.connect(account_for(dovecot, mailbox_user))
    try:
        client.select(imap, "INBOX")
        fetched = client.fetch(imap, [5, 3, 1, 2, 4, 99])
        assert fetched == client._fetch_parsed(imap, range(1, 6))
        assert client.fetch(imap, []) == []
        assert client.fetch(imap, [2]) == fetched[1:2]  # the connection is still in step
    finally:
        client.logout(imap)
    assert [f.uid for f in fetched] == [1, 2, 3, 5]
    assert fetched[1].raw == TRICKY[1]
    assert fetched[2].raw == TRICKY[2]
    assert set(fetched[1].flags) == {"\\Flagged", "$Private"}
    assert fetched[2].flags == ("\\Seen",)


def test_flags_after_the_body_and_protocol_text_inside_it() -> None:
    body = b"UID 77 FLAGS (\\Deleted) BODY[] {4}\r\n"
    uid, item = read_fetch_response(
        [b"* 3 FETCH (UID 12 BODY[] {%d}\r\n" % len(body), b" FLAGS (\\Seen $Private))\r\n"],
        [body],
    )
    assert (uid, item) == (12, Fetched(12, body, ("\\Seen", "$Private")))


@pytest.mark.parametrize(
    ("texts", "literals", "expected"),
    [
        # an unsolicited flag change: a UID, no body
        ([b"* 3 FETCH (FLAGS (\\Seen) UID 12)\r\n"], [], (12, None)),
        # a body as a quoted string: left to imapclient's parser
        ([b'* 3 FETCH (UID 12 FLAGS () BODY[] "Subject: x")\r\n'], [], (12, None)),
        ([b"* 3 FETCH (UID 12 FLAGS () BODY[] NIL)\r\n"], [], (12, None)),
        ([b"* 14 EXISTS\r\n"], [], (None, None)),
        ([b"* OK [ALERT] {5}\r\n", b")\r\n"], [b"hallo"], (None, None)),
        # a literal that is not BODY[] (a header fetch some server volunteers)
        (
            [b"* 3 FETCH (UID 12 BODY[HEADER] {2}\r\n", b")\r\n"],
            [b"\r\n"],
            (12, None),
        ),
    ],
)
def test_responses_without_a_literal_body(
    texts: list[bytes], literals: list[bytes], expected: tuple[int | None, None]
) -> None:
    assert read_fetch_response(texts, literals) == expected


def test_uid_sets_are_ranges() -> None:
    assert client._uid_set({1, 2, 3, 7, 9, 10}) == b"1:3,7,9:10"
    assert client._uid_set({42}) == b"42"
