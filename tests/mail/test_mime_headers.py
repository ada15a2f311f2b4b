"""The quick reader's header loop makes what the standard parser makes of a header block."""

from __future__ import annotations

import itertools
from email import policy
from email.message import Message
from email.parser import Parser

from adapters.mail import mime

LINES = [
    "From sender@example.com Sat Mar  1 12:00:00 2025\n",
    "Subject: Gr=?utf-8?q?=C3=BC=C3=9Fe?=\n",
    "To: a@example.com,\n",
    " b@example.com\n",
    "\tc@example.com\n",
    ":no name\n",
    "X-Empty:\n",
    "Content-Type: text/plain;\r\n",
    ' charset="utf-8"\r\n',
    "From inside the block\n",
]


def facts(msg: Message) -> object:
    fields = {k: v for k, v in vars(msg).items() if k not in ("_payload", "defects")}
    return fields, [(type(d).__name__, str(d)) for d in msg.defects]


def test_every_arrangement_of_fields_continuations_and_envelope_lines() -> None:
    heads = ["".join(p) for n in range(4) for p in itertools.permutations(LINES, n)]
    assert len(heads) > 700
    for head in heads:
        standard = Parser(policy=policy.compat32).parsestr(head, headersonly=True)
        assert facts(mime._headers(head)) == facts(standard), head
