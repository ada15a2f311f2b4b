"""Raw RFC 5322 bytes in, the facts of an email out; pure, no I/O.

Written for the real world's mail: legacy and unknown charsets, RFC 2047 words, missing or
duplicate headers, broken MIME. Whatever cannot be read raises `MailParseError` (the
caller archives the raw bytes with a CaptureFailed event); small damage is repaired and
listed in `defects`.
"""

from __future__ import annotations

import email
import email.utils
import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import MessageError
from email.header import Header, decode_header
from email.message import Message

from adapters.mail.mime import read_message
from adapters.mail.payload import decoded
from adapters.mail.text import html_to_text, signature_numbers
from hub.events.mail import message_key

MAX_TEXT = 200_000  # characters of body text kept in the event; the raw message has all
MAX_SUBJECT = 998  # RFC 5322 line limit
MAX_ADDRESSES = 500
MAX_PARTS = 1_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BARE_CR = re.compile(rb"\r(?!\n)")
_MSGID = re.compile(r"<[^<>\s]{1,900}>")
Fields = dict[str, list[object]]  # header values by lower-case name, in order


class MailParseError(ValueError):
    """The bytes are not an email we can read."""


@dataclass(frozen=True, slots=True)
class AttachmentData:
    name: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class ParsedEmail:
    """What one email says; `html` and attachment bytes go to the archive."""

    message_id: str | None
    sender: str
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    text: str
    text_truncated: bool
    html: str | None
    attachments: list[AttachmentData]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    signature_numbers: tuple[str, ...]
    defects: list[str] = field(default_factory=list)

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for a in (self.sender, *self.to, *self.cc, *self.bcc) if a))


def parse_email(raw: bytes) -> ParsedEmail:
    """Reads one message; raises MailParseError when there is nothing to read."""
    if not raw or raw.isspace():  # (not raw.strip(): a copy of the whole message)
        raise MailParseError("empty message")
    if not _has_header_field(raw):
        raise MailParseError("no header fields")
    try:
        # compat32 builds the MIME tree without parsing every header into objects (a third
        # of the cost with policy.default); the few headers we use are decoded below.
        # read_message builds the standard parser's tree, quicker for well-formed mail.
        msg = read_message(raw)
    except Exception as err:  # the parser itself is robust; this is a last line of defence
        raise MailParseError(f"unparseable: {type(err).__name__}: {err}") from err
    defects = [type(d).__name__ for d in msg.defects]
    fields = _fields(msg)
    sender_name, sender = _first_address(fields, "from", defects)
    if not sender:
        sender_name, sender = _first_address(fields, "sender", defects)
    to, cc, bcc = (_addresses(fields, name, defects) for name in ("to", "cc", "bcc"))
    if not fields:
        raise MailParseError("no header fields")
    text, html, attachments = _body(msg, defects)
    text = text.replace("\r\n", "\n")
    truncated = len(text) > MAX_TEXT
    return ParsedEmail(
        message_id=_message_id(_header(fields, "message-id", defects)),
        sender=sender,
        sender_name=sender_name,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=_one_line(_header(fields, "subject", defects))[:MAX_SUBJECT],
        text=text[:MAX_TEXT],
        text_truncated=truncated,
        html=html,
        attachments=attachments,
        date=_date(_header(fields, "date", defects)),
        in_reply_to=_message_id(_header(fields, "in-reply-to", defects)),
        references=tuple(_MSGID.findall(_header(fields, "references", defects)))[-50:],
        signature_numbers=signature_numbers(text),
        defects=sorted(set(defects)),
    )


def _has_header_field(raw: bytes) -> bool:
    """Whether the first 64 KB hold a colon that is not preceded by an empty line of
    each line-end style (LF and CRLF: one of them may be part of the other style's body)."""
    colon = raw.find(b":", 0, 65536)
    return colon >= 0 and (raw.find(b"\n\n", 0, colon) < 0 or raw.find(b"\r\n\r\n", 0, colon) < 0)


def capture_key(raw: bytes, message_id: str | None) -> str:
    """The exactly-once key: the Message-ID (as its `message_key`) plus a hash of the content.

    The content is the body with the headers that say how to read it (Content-*), not the
    whole message: one mail delivered to two mailboxes differs in Received/Delivered-To
    but is one email. The hash keeps a different message that reuses a Message-ID. Without
    a Message-ID, every header but the trace and X- headers counts.
    """
    return capture_keys(raw, message_id)[0]


def capture_keys(raw: bytes, message_id: str | None) -> tuple[str, str | None]:
    """`capture_key`, and the key mail captured before Message-IDs were hashed (2026-12)
    was stored under (the Message-ID in plain; None when there is none: that key is
    unchanged), so a copy of such a mail read again is still recognized."""
    fields, body = _split(raw)
    if message_id:
        kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().startswith(b"content-")]
        digest = _digest(kept, body)
        return f"email:{message_key(message_id)}:{digest}", f"email:{message_id}:{digest}"
    kept = [f for f in fields if not _is_trace(f.split(b":", 1)[0].strip().lower())]
    return f"email:nomsgid:{_digest(kept, body)}", None


_TRACE = (
    b"received",
    b"delivered-to",
    b"return-path",
    b"x-",
    b"authentication-results",
    b"arc-",
    b"envelope-to",
    b"dkim-signature",
)


def _is_trace(name: bytes) -> bool:
    return name.startswith(_TRACE)


def _digest(fields: list[bytes], body: bytes | memoryview) -> str:
    h = hashlib.sha256()
    for f in fields:
        h.update(b" ".join(f.split()) + b"\n")
    h.update(b"\n")
    h.update(body)
    return h.hexdigest()[:32]


def _split(raw: bytes) -> tuple[list[bytes], memoryview]:
    """Unfolded header fields and the body, line endings made uniform; the body is a view
    (the capture key hashes it without a copy)."""
    text = _lf(raw)
    end = text.find(b"\n\n")
    body = memoryview(text)[len(text) if end < 0 else end + 2 :]
    return _unfold(text if end < 0 else text[:end]), body


def _lf(raw: bytes) -> bytes:
    """CRLF line ends made LF (a bare CR stays)."""
    if b"\r" not in raw:
        return raw
    if _BARE_CR.search(raw) is None:  # (deleting every CR is three times quicker)
        return raw.translate(None, b"\r")
    return raw.replace(b"\r\n", b"\n")


def _unfold(head: bytes) -> list[bytes]:
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _fields(msg: Message) -> Fields:
    """The top-level header fields' values by lower-case name, in order (one pass over
    them, not one per name looked up)."""
    fields: Fields = {}
    for key, value in msg.raw_items():
        fields.setdefault(key.lower(), []).append(value)
    return fields


def _raw_header(fields: Fields, name: str) -> str:
    """The first field of that name, as text (8-bit bytes read as UTF-8, else cp1252)."""
    values = fields.get(name)
    return _text(values[0]) if values else ""


def _text(value: object) -> str:
    if isinstance(value, Header):
        value = str(value)
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable 8-bit bytes, kept as surrogates by the parser
        data = text.encode("utf-8", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return text


def _header(fields: Fields, name: str, defects: list[str]) -> str:
    """A header with RFC 2047 encoded words decoded; unknown charsets fall back."""
    return _decode_words(_raw_header(fields, name), defects)


def _decode_words(value: str, defects: list[str]) -> str:
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    # HeaderParseError (a broken base64 word) is a MessageError, not a ValueError.
    except (ValueError, LookupError, AssertionError, MessageError) as err:
        defects.append(f"encoded words: {type(err).__name__}")
        return value
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        for candidate in (charset or "ascii", "utf-8", "cp1252"):
            try:
                out.append(chunk.decode(candidate))
                break
            except (LookupError, ValueError):  # a charset name with a NUL is a ValueError
                continue
        else:
            out.append(chunk.decode("latin-1"))
    return "".join(out)


def _one_line(value: str) -> str:
    return " ".join(_CONTROL.sub(" ", value).split())


def _message_id(value: str) -> str | None:
    found = _MSGID.search(value)
    if found:
        return found.group(0)
    value = _one_line(value)
    return f"<{value[:900]}>" if value else None


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _address_pairs(fields: Fields, name: str, defects: list[str]) -> list[tuple[str, str]]:
    texts = tuple(_text(v) for v in fields.get(name, ()))
    return [
        (_one_line(_decode_words(real, defects))[:200], addr)
        for real, addr in _parse_addresses(texts)
    ]


@functools.lru_cache(maxsize=4096)
def _parse_addresses(texts: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(display name, address) of address header fields; the same fields come again and
    again (a firm's own addresses, its regular customers), so each is read once."""
    pairs = []
    for real, addr in email.utils.getaddresses(list(texts)):
        addr = _one_line(addr).strip("<>").lower()
        if "@" in addr and len(addr) <= 320:
            pairs.append((real, addr))
    return tuple(pairs[:MAX_ADDRESSES])


def _first_address(fields: Fields, name: str, defects: list[str]) -> tuple[str, str]:
    pairs = _address_pairs(fields, name, defects)
    return pairs[0] if pairs else ("", "")


def _addresses(fields: Fields, name: str, defects: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(addr for _, addr in _address_pairs(fields, name, defects)))


def _body(msg: Message, defects: list[str]) -> tuple[str, str | None, list[AttachmentData]]:
    """The plain text, the HTML and the attachments, walking the MIME tree once."""
    plain: str | None = None
    html: str | None = None
    attachments: list[AttachmentData] = []
    for index, part in enumerate(_leaves(msg)):
        if index >= MAX_PARTS:
            defects.append("too many MIME parts")
            break
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = _filename(part, defects)
        is_body = disposition != "attachment" and not name
        if is_body and ctype == "text/plain" and plain is None:
            plain = _text_of(part, defects)
        elif is_body and ctype == "text/html" and html is None:
            html = _text_of(part, defects)
        else:
            data = _message_bytes(part) if ctype.startswith("message/") else _payload(part)
            if data or name:
                attachments.append(AttachmentData(name or _default_name(ctype), ctype, data))
    if plain is None and html is not None:
        plain = html_to_text(html)
    return plain or "", html, attachments


def _leaves(msg: Message) -> Iterator[Message]:
    """The non-multipart parts; an attached message (message/*) is one leaf, not descended."""
    stack = [msg]
    while stack:
        part = stack.pop()
        if part.get_content_maintype() == "message" and part is not msg:
            yield part
        elif part.is_multipart():
            payload = part.get_payload()
            parts = payload if isinstance(payload, list) else []
            stack.extend(p for p in reversed(parts) if isinstance(p, Message))
        else:
            yield part


def _message_bytes(part: Message) -> bytes:
    try:
        return bytes(_split(part.as_bytes())[1])
    except Exception:  # a damaged attached message: keep what the parser has
        return _payload(part)


def _payload(part: Message) -> bytes:
    try:
        data = decoded(part)
    except Exception:  # broken base64 / quoted-printable: keep the transfer-encoded bytes
        data = None
    if data is not None:
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _text_of(part: Message, defects: list[str]) -> str:
    data = _payload(part)
    try:
        charset = part.get_content_charset() or "utf-8"
    except (LookupError, ValueError):
        charset = "utf-8"
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return data.decode(candidate)
        # A stranger's charset name: unknown, not a text codec, or with a NUL in it
        # (ValueError); decoding errors are UnicodeError (idna's too), also ValueErrors.
        except (LookupError, ValueError):
            continue
    return data.decode("latin-1")


def _filename(part: Message, defects: list[str]) -> str:
    try:
        name = _decode_words(_text(part.get_filename() or ""), defects)
    except Exception as err:  # RFC 2231 in a stranger's spelling
        defects.append(f"attachment name: {type(err).__name__}")
        name = ""
    # A stranger's file name: never a path, no control characters, bounded.
    name = _CONTROL.sub("", str(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name.lstrip(".")[:255]


def _default_name(ctype: str) -> str:
    return {
        "text/calendar": "invite.ics",
        "message/rfc822": "message.eml",
        "message/delivery-status": "delivery-status.txt",
        "application/ms-tnef": "winmail.dat",
    }.get(ctype, "attachment.bin")
