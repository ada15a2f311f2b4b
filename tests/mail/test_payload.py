"""A part's decoded bytes are the standard library's, base64 damaged or not."""

from __future__ import annotations

import base64
import email
import random
from email import policy
from email.message import Message

from adapters.mail import payload

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
DAMAGE = [b"=", b"==", b"===", b"!", b" ", b"\t", b"\r", b"\n", b"\r\n", b"-", b"_", b"\xff"]


def part(body: bytes, encoding: bytes = b"base64") -> Message:
    head = b"Content-Type: application/pdf\nContent-Transfer-Encoding: " + encoding + b"\n\n"
    return email.message_from_bytes(head + body, policy=policy.compat32)


def damaged(rng: random.Random) -> bytes:
    body = base64.encodebytes(rng.randbytes(rng.choice([0, 1, 2, 3, 40, 57, 300])))
    if rng.random() < 0.5:
        body = body.replace(b"\n", b"\r\n")
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        at = rng.randrange(len(body) + 1)
        insert = rng.choice([*DAMAGE, bytes([rng.choice(ALPHABET)])])
        body = body[:at] + insert + body[at + rng.choice([0, 0, 1, 2]) :]
    return body


def test_decoded_bytes_and_defects_are_the_standard_librarys() -> None:
    rng = random.Random(5)
    quick = 0
    for _ in range(5000):
        body = damaged(rng)
        encoding = rng.choice([b"base64", b"BASE64", b" Base64 ", b"quoted-printable", b"7bit"])
        mine, theirs = part(body, encoding), part(body, encoding)
        quick += payload._plain_base64(part(body, encoding)) is not None
        assert payload.decoded(mine) == theirs.get_payload(decode=True), body
        assert [type(d) for d in mine.defects] == [type(d) for d in theirs.defects]
    assert 500 < quick < 4000  # both paths were taken


def test_a_multipart_has_no_decoded_bytes() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n"
    assert payload.decoded(email.message_from_bytes(raw, policy=policy.compat32)) is None
