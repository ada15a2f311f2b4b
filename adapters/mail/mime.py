"""Reading the MIME tree quicker for the common shapes, with the standard library's result.

`read_message(raw)` returns the same `Message` tree as
`email.message_from_bytes(raw, policy=compat32)`. That parser walks every line of the
message in Python (about 2,700 lines for a 200 KB attachment); here only the header blocks
go through it, and bodies are cut at their boundary lines, found with `str.find`.
Whatever is not plainly well-formed (bare CR line ends, a header block without its blank
line, missing or doubled boundaries, message/* parts, multipart/digest, an odd transfer
encoding) goes to the standard parser, whose repairs and defects stay authoritative.
`tests/mail/test_mime.py` compares both trees over the corpus and generated mail.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email import errors, policy
from email.message import Message
from typing import NamedTuple

_HEADER_LINE = re.compile(r"(From |[\041-\071\073-\176]*:|[\t ])")  # feedparser.headerRE
_MAX_DEPTH = 8
_BARE_CR = re.compile(r"\r(?!\n)")


def read_message(raw: bytes) -> Message:
    text = raw.decode("ascii", "surrogateescape")  # as BytesParser does
    if _BARE_CR.search(text) is None:  # the standard parser also ends lines at a bare CR
        quick = _read(text, 0)
        if quick is not None:
            return quick
    return email.message_from_string(text, policy=policy.compat32)


# The readers below take a window `text[start:end]` instead of a copy of it: the bodies
# of a message with a large attachment would otherwise be copied once per level.


def _read(text: str, depth: int, start: int = 0, end: int | None = None) -> Message | None:
    """The message in `text[start:end]`, or None where only the standard parser should
    decide."""
    end = len(text) if end is None else end
    cut = _header_end(text, start, end)
    if cut is None or depth > _MAX_DEPTH:
        return None
    head, body = cut
    msg = _headers(head)
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        # A part ends before its EOL.
        msg.set_payload(text[body : _eol_start(text, body, end) if depth else end])
        return msg
    return _multipart(msg, text, body, end, depth)


def _headers(head: str) -> Message:
    """What `Parser(policy=compat32).parsestr(head, headersonly=True)` makes of a header
    block that `_header_end` accepted (every line a field, a continuation or an envelope
    line; no bare CR), less the payload: the feed parser's header loop
    (`FeedParser._parse_headers`), without its line buffer and generator around it."""
    msg = Message(policy=policy.compat32)
    lines = [line + "\n" for line in head.split("\n")[:-1]]  # the block ends with "\n"
    name = ""
    value: list[str] = []
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if not name:  # a continuation first: kept as a defect only
                msg.defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
            else:
                value.append(line)
            continue
        if name:
            msg.set_raw(*policy.compat32.header_source_parse(value))
            name, value = "", []
        if line.startswith("From "):
            if number == 0:
                msg.set_unixfrom(line.rstrip("\n").removesuffix("\r"))
            elif number < len(lines) - 1:  # (on the last line it is the body's first)
                msg.defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
            continue
        colon = line.find(":")
        if colon == 0:
            msg.defects.append(errors.InvalidHeaderDefect("Missing header name."))
            continue
        name, value = line[:colon], [line]
    if name:
        msg.set_raw(*policy.compat32.header_source_parse(value))
    return msg


def _header_end(text: str, start: int, end: int) -> tuple[str, int] | None:
    """(header block, where the body starts), split at the first empty line; None unless
    every line before it is a header field or its continuation (else the parser reports
    a defect)."""
    if text.startswith("\n", start, end) or text.startswith("\r\n", start, end):
        return "", text.index("\n", start, end) + 1
    # The first empty line, searched in the line-end style of the first line first (a
    # search for the other style would read the whole message for nothing).
    newline = text.find("\n", start, end)
    crlf = newline > start and text[newline - 1] == "\r"
    first, other = ("\n\r\n", "\n\n") if crlf else ("\n\n", "\n\r\n")
    found = text.find(first, start, end)
    other_found = text.find(other, start, found if found >= 0 else end)
    if other_found >= 0:
        found = other_found
    if found < 0:
        return None
    head_end = found + 1
    head = text[start:head_end]
    if not all(_HEADER_LINE.match(line) for line in head.splitlines()):
        return None
    blank = 1 if text.startswith("\n", head_end, end) else 2
    return head, head_end + blank


def _multipart(msg: Message, text: str, start: int, end: int, depth: int) -> Message | None:
    boundary = msg.get_boundary()
    if (
        boundary is None
        # A folded header can put a line break into the boundary: the standard parser,
        # reading line by line, never finds it; a search across lines would.
        or "\n" in boundary
        or "\r" in boundary
        or msg.get_content_type() == "multipart/digest"  # parts default to message/rfc822
        or str(msg.get("content-transfer-encoding", "8bit")).lower()
        not in ("7bit", "8bit", "binary")
    ):
        return None
    parts: list[Message | str] = []
    part_start: int | None = None  # where the current part's text begins
    for found in _boundary_lines(text, start, end, boundary):
        if part_start is None:
            if found.close:
                return None  # a close boundary first: no start boundary
            if found.start > start:
                msg.preamble = text[start : _eol_start(text, start, found.start)]
        else:
            # Empty: two boundary lines in a row.
            part = _read(text, depth + 1, part_start, found.start)
            if found.start == part_start or part is None:
                return None
            parts.append(part)
        if found.close:
            msg.set_payload(parts)
            epilogue = _line_end(text, found.end, end)
            if not depth:
                msg.epilogue = text[epilogue:end]
            else:  # a part ends before its EOL
                stop = _eol_start(text, epilogue, end)
                msg.epilogue = text[epilogue:stop] if epilogue < end else None
            return msg
        part_start = _line_end(text, found.end, end)
    return None  # no close boundary: the parser reports it


class _Boundary(NamedTuple):
    start: int
    end: int  # before the line break
    close: bool  # "--boundary--"


def _boundary_lines(text: str, start: int, end: int, boundary: str) -> Iterator[_Boundary]:
    """The lines of `text[start:end]` that are `--boundary` or `--boundary--` (trailing
    blanks allowed), found as the regular expression ``--boundary(--)?[ \\t]*\\r?$``
    (MULTILINE) finds them, kept where they begin a line. A `str.find` loop: compiling
    that expression for each message's new boundary cost more than the search itself."""
    delimiter = "--" + boundary
    at = text.find(delimiter, start, end)
    while at >= 0:
        after = at + len(delimiter)
        close = text.startswith("--", after, end)
        stop = _blanks_to_eol(text, after + 2, end) if close else None
        if stop is None:
            close, stop = False, _blanks_to_eol(text, after, end)
        if stop is None:  # not a boundary line: the search goes on from the next character
            at = text.find(delimiter, at + 1, end)
            continue
        if at == start or text[at - 1] == "\n":
            yield _Boundary(at, stop, close)
        at = text.find(delimiter, stop, end)


def _blanks_to_eol(text: str, at: int, end: int) -> int | None:
    """The end of ``[ \\t]*\\r?`` from `at` where a line break or `end` follows it."""
    while at < end and text[at] in " \t":
        at += 1
    if at < end and text[at] == "\r":
        at += 1
    return at if at == end or text[at] == "\n" else None


def _line_end(text: str, at: int, end: int) -> int:
    """Just past the line break at `at` (a boundary line's end), if there is one."""
    if text.startswith("\r\n", at, end):
        return at + 2
    return at + 1 if text.startswith("\n", at, end) else at


def _eol_start(text: str, start: int, end: int) -> int:
    """Where `text[start:end]` ends without its last line break."""
    if end - 2 >= start and text.startswith("\r\n", end - 2, end):
        return end - 2
    return end - 1 if end - 1 >= start and text.startswith("\n", end - 1, end) else end
