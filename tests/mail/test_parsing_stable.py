"""The parser reads every message as it did before it was made quicker: the same facts and,
above all, the same capture keys (they are idempotency keys in existing stores: a changed
key would capture a mail again on the next sync).

The expected digests were written by the earlier parser (`bench/mail_parse_check.py
--write-digests`, revision in `BASELINE` there); that script also compares the two
parsers directly over a wider set of generated and damaged mail."""

from __future__ import annotations

import json

from adapters.mail import parsing
from bench.mail_parse_check import DIGESTS, cheap_set, digest, outcome


def test_every_message_gives_the_facts_and_keys_it_gave_before() -> None:
    expected = json.loads(DIGESTS.read_text())
    found = cheap_set()
    assert sorted(found) == sorted(expected)  # the same messages, built the same way
    differ = [
        name for name, raw in found.items() if digest(outcome(parsing, raw)) != expected[name]
    ]
    assert differ == []
