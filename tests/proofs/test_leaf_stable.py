"""A leaf's bytes never change for a row already logged: a faster encoder or reference walk
must give byte for byte what the logs written so far hold, or their trees stop verifying.
The expected values were written by the leaf code the first logs were made with."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from hub.events.mail import Attachment, EmailReceived
from hub.proofs import leaf

A, B, C = ("sha256:" + x * 64 for x in "abc")
EVENT = EmailReceived(
    raw_ref=A,
    html_ref=B,
    subject="Angebot",
    text="Hallo sha256:" + "d" * 64,  # a reference in a body is no reference
    attachments=(
        Attachment(name="x.pdf", content_type="application/pdf", size=1, ref=C),
        Attachment(name="y.pdf", content_type="application/pdf", size=1, ref=A),
    ),
)


def test_references_come_in_field_order_each_once() -> None:
    # The order makes the order of the leaf's blob lines.
    assert leaf.references(EVENT) == [B, C, A]


def test_a_leaf_of_a_fixed_row_stays_as_logged() -> None:
    row = leaf.StoredRow(
        42,
        "email-3f2a",
        1,
        "EmailReceived",
        '{"s":"v1:k:c"}',
        '{"schema_version":1}',
        "mail:1",
        datetime(2026, 12, 7, 16, 0, 0, 123456, tzinfo=UTC),
    )
    blobs = [
        leaf.BlobEntry(leaf.locator(ref), hashlib.sha256(ref.encode()).hexdigest())
        for ref in leaf.references(EVENT)
    ]
    encoded = leaf.encode(row, blobs)
    assert encoded.startswith(b'kartei-leaf/1\nposition: 42\nstream: "email-3f2a"\n')
    assert hashlib.sha256(encoded).hexdigest() == (
        "1454918d702ecf3b65cc1052b2adc5eda1cbc1ab1c6f8b18f423f86a731e6a99"
    )
    assert leaf.unpack_blobs(leaf.pack_blobs(blobs)) == blobs
