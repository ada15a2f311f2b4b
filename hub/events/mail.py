"""Email facts: mail received and sent, where it was seen, what could not be read.

Stream ``email-<hash of the capture key>``, one per captured message. Personal fields are
sealed under ``email:<address>``: the sender for received mail, the first external
recipient for sent mail, so erasing that address's key forgets the message (and, since
the archive references live in the sealed fields, its archived bytes: see hub/archive.py).
Message-IDs are sealed too (they often hold a name or an address); what must stay
comparable in plain text (the capture key, the read models' threads) holds their
`message_key` instead (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hub.events.base import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file attached to an email, kept in the archive under `ref`."""

    name: str
    content_type: str
    size: int
    ref: str


_PERSONAL = frozenset(
    {
        "sender",
        "sender_name",
        "to",
        "cc",
        "bcc",
        "subject",
        "text",
        "html_ref",
        "attachments",
        "raw_ref",
        "signature_phones",
        "message_id",
        "in_reply_to",
        "references",
        # Where it lay: a folder or an imported file may be named for the person
        # ("Kunden/Meyer", "import:Mueller_privat.pst/..."), so it goes with their key.
        "mailboxes",
    }
)


def message_key(message_id: str | None) -> str | None:
    """A Message-ID as it may be kept in plain text: a SHA-256 of it, for equality only
    (idempotency, threading), never read back (docs/privacy.md)."""
    if not message_id:
        return None
    data = b"kartei-message-id\0" + message_id.encode("utf-8", "surrogatepass")
    return "m" + hashlib.sha256(data).hexdigest()[:40]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Email(Event):
    personal_fields: ClassVar[frozenset[str]] = _PERSONAL

    message_id: str | None = None
    sender: str = ""  # normalized lower-case address
    sender_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    text: str = ""  # plain text, derived from the HTML when there is no text part
    text_truncated: bool = False
    html_ref: str | None = None
    attachments: tuple[Attachment, ...] = ()
    raw_ref: str = ""
    raw_size: int = 0
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    mailboxes: tuple[str, ...] = ()  # where it was captured: "imap:<account>/<folder>", ...
    # Phone/fax numbers (E.164) found in the signature block, offered on the contact.
    signature_phones: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()  # what the parser had to repair (broken boundaries, ...)

    def data_subject(self) -> str | None:
        return f"email:{self.sender}" if self.sender else None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailReceived(_Email):
    """An email from outside reached one of the firm's mailboxes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSent(_Email):
    """An email from one of the firm's own addresses to someone outside."""

    def data_subject(self) -> str | None:
        first = next(iter(self.to + self.cc + self.bcc), None)
        return f"email:{first}" if first else f"email:{self.sender}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSeenInMailbox(Event):
    """An email already captured was found in one more mailbox (provenance)."""

    mailbox: str
    capture_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureFailed(Event):
    """Input could not be parsed; its raw bytes are archived under `raw_ref`."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"raw_ref", "sender"})

    source: str  # "smtp", "imap:<account>/<folder>", "import:<path>"
    error: str
    raw_sha256: str
    raw_size: int = 0
    raw_ref: str = ""
    sender: str = ""

    def data_subject(self) -> str | None:
        return f"email:{self.sender}" if self.sender else f"raw:{self.raw_sha256}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommunicationLinked(Event):
    """Staff assigned a message (by its stream) to a contact, e.g. an unknown sender's."""

    message_stream: str
    contact_id: str
    by: str | None = None


EVENTS: dict[str, type[Event]] = {
    "EmailReceived": EmailReceived,
    "EmailSent": EmailSent,
    "EmailSeenInMailbox": EmailSeenInMailbox,
    "CaptureFailed": CaptureFailed,
    "CommunicationLinked": CommunicationLinked,
}
