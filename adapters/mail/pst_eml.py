"""An Outlook message (MAPI properties, as read from a PST) rebuilt as RFC 5322 bytes.

A PST keeps no raw message: Outlook stores the header it received as one property
(PR_TRANSPORT_MESSAGE_HEADERS), the bodies and each attachment as others. The rebuild
keeps that header as given, field by field in its order, and drops only the fields that
describe the original MIME structure (Content-Type and friends, MIME-Version): the body
below them is new. The body is multipart: the plain text, the HTML (alternative), and the
attachments with their names, MIME types and Content-IDs. Mail without a transport header
(what Outlook sent itself, drafts) gets one made from the MAPI properties.

The result is deterministic (fixed MIME boundaries): the same message rebuilt twice gives
the same bytes, and so the same capture key; a second import stores nothing twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP
from email.utils import format_datetime, formataddr

# Header fields that describe the original body, which the rebuild replaces.
_BODY_FIELDS = (
    b"content-type",
    b"content-transfer-encoding",
    b"content-disposition",
    b"content-id",
    b"mime-version",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# Unfolded header lines: the standard library drops the space between two encoded words
# where it folds a long non-ASCII subject.
_HEADER_POLICY = SMTP.clone(max_line_length=998)
REBUILT = b"X-Kartei-Rebuilt-From: Outlook PST (transport header, bodies, attachments)\r\n"


@dataclass(frozen=True, slots=True)
class PstAttachment:
    name: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass(slots=True)
class PstMessage:
    """What a PST holds of one message, in Python types (pst.py reads it)."""

    transport_headers: str | None
    subject: str
    sender_name: str
    sender_email: str
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    bcc: list[tuple[str, str]] = field(default_factory=list)
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None
    text: str | None = None
    html: str | None = None
    rtf: bytes | None = None  # only when there is neither text nor HTML
    attachments: list[PstAttachment] = field(default_factory=list)


def rebuild(message: PstMessage) -> bytes:
    """The message as RFC 5322 bytes (CRLF line ends)."""
    head = _header(message)
    body = _body(message, _boundary_seed(message))
    return head + REBUILT + body


def _header(message: PstMessage) -> bytes:
    if message.transport_headers and ":" in message.transport_headers:
        lines = _kept_fields(message.transport_headers)
        if message.message_id and not any(f.lower().startswith(b"message-id:") for f in lines):
            lines.append(b"Message-ID: " + message.message_id.encode("ascii", "replace"))
        return b"".join(f + b"\r\n" for f in lines)
    return _made_header(message)


def _kept_fields(headers: str) -> list[bytes]:
    """The transport header's fields (folded lines kept), without the body's fields."""
    # Non-ASCII that Outlook decoded into the property goes back out as UTF-8 (RFC 6532).
    raw = headers.encode("utf-8", "surrogateescape").replace(b"\r\n", b"\n").rstrip(b"\n")
    fields: list[list[bytes]] = []
    for line in raw.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        elif line.strip():
            fields.append([line])
    kept = [f for f in fields if f[0].split(b":", 1)[0].strip().lower() not in _BODY_FIELDS]
    return [b"\r\n".join(f) for f in kept]


def _made_header(message: PstMessage) -> bytes:
    """A header from the MAPI properties, for mail that came with none."""
    out = EmailMessage(policy=_HEADER_POLICY)
    out["From"] = _addresses([(message.sender_name, message.sender_email)])
    for name, people in (("To", message.to), ("Cc", message.cc), ("Bcc", message.bcc)):
        if people:
            out[name] = _addresses(people)
    out["Subject"] = _one_line(message.subject)
    if message.date is not None:
        out["Date"] = format_datetime(message.date.astimezone(UTC))
    for name, value in (
        ("Message-ID", message.message_id),
        ("In-Reply-To", message.in_reply_to),
        ("References", message.references),
    ):
        if value:
            out[name] = _one_line(value)
    return bytes(out)[:-2]  # without the empty line that ends a header


def _addresses(people: Iterable[tuple[str, str]]) -> str:
    """The policy writes non-ASCII names as RFC 2047 words."""
    return ", ".join(formataddr((_one_line(n), _one_line(a))) for n, a in people)


def _one_line(value: str) -> str:
    """A property as one header line: line breaks and controls written by strangers go."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _body(message: PstMessage, seed: str) -> bytes:
    """MIME-Version and the new body (MIMEPart: parts without a MIME-Version of their own)."""
    part = MIMEPart(policy=SMTP)
    if message.text is not None or message.html is None:
        part.set_content(message.text or "", charset="utf-8")
    if message.html is not None:
        if message.text is None:
            part.set_content(message.html, subtype="html", charset="utf-8")
        else:
            part.add_alternative(message.html, subtype="html", charset="utf-8")
    if message.rtf is not None:
        _attach(part, PstAttachment("body.rtf", "application/rtf", message.rtf))
    for attachment in message.attachments:
        _attach(part, attachment)
    # (message/rfc822 parts count as multipart to the email package; they take no boundary)
    multiparts = (p for p in part.walk() if p.get_content_maintype() == "multipart")
    for index, sub in enumerate(multiparts):
        sub.set_boundary(f"=_kartei_pst_{seed}_{index}")
    return b"MIME-Version: 1.0\r\n" + bytes(part)


def _attach(part: MIMEPart, attachment: PstAttachment) -> None:
    """Name, type and Content-ID are a stranger's text: one line each, a type only when it
    is one (else application/octet-stream)."""
    kind = attachment.content_type.strip().lower()
    maintype, _, subtype = kind.partition("/") if _MIME_TYPE.fullmatch(kind) else ("", "", "")
    cid = _one_line(attachment.content_id or "").strip("<>")
    if kind == "message/rfc822":  # a forwarded item: the message itself, 7bit or 8bit
        inner = message_from_bytes(attachment.data, policy=SMTP)
        part.add_attachment(inner, filename=_one_line(attachment.name) or None)
        return
    part.add_attachment(
        attachment.data,
        maintype=maintype or "application",
        subtype=subtype or "octet-stream",
        filename=_one_line(attachment.name) or None,
        cid=f"<{cid}>" if cid else None,
    )


def _boundary_seed(message: PstMessage) -> str:
    """A boundary no body contains by chance: derived from the content it separates."""
    h = hashlib.sha256()
    for piece in (message.text, message.html):
        h.update((piece or "").encode("utf-8", "surrogatepass") + b"\0")
    for attachment in message.attachments:
        h.update(attachment.data)
    return h.hexdigest()[:24]
