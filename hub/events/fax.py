"""Fax facts: a fax that arrived as email, and its text recognized later.

Stream ``fax-<hash of the capture key>``, one per fax. Personal fields are sealed under
the sender's number (``phone:<E.164>``, as for calls), so erasing that number's key
forgets the fax, its text and (through the sealed references) its archived document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hub.events.base import Event
from hub.events.calls import phone_subject

OCR_STATUSES = ("done", "pending", "failed", "none")  # none: no readable document


@dataclass(frozen=True, slots=True, kw_only=True)
class FaxReceived(Event):
    """A fax reached the firm (delivered as email by a fax line or provider)."""

    personal_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "sender",
            "sender_raw",
            "subject",
            "text",
            "document_name",  # chosen by the sender: "Kündigung Müller.pdf"
            "message_id",  # may hold a name or an address (hub/events/mail.py)
            "document_ref",
            "preview_ref",
            "raw_ref",
        }
    )

    sender: str | None = None  # E.164, None when the number could not be read
    sender_raw: str = ""  # as the provider wrote it (may be a station id)
    receiver: str | None = None  # the firm's fax number that received it (E.164)
    receiver_raw: str = ""
    pages: int = 0
    received_at: datetime | None = None
    profile: str = ""  # provider profile that read the email
    message_id: str | None = None
    subject: str = ""
    document_name: str = ""
    document_type: str = ""  # application/pdf, image/tiff
    document_size: int = 0
    document_ref: str = ""
    preview_ref: str | None = None  # PNG of page 1
    document_error: str = ""  # why the document could not be read (text/pages then empty)
    text: str = ""
    text_source: str = ""  # pdf (text layer), ocr, or empty
    ocr_status: str = "none"  # done | pending | failed | none
    ocr_error: str = ""
    raw_ref: str = ""
    raw_size: int = 0
    mailboxes: tuple[str, ...] = ()  # where it was captured: "smtp:fax", ...

    def data_subject(self) -> str | None:
        return phone_subject(self.sender, self.sender_raw) or "fax:unknown-sender"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaxTextRecognized(Event):
    """OCR of a fax captured without text succeeded on a later try."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"sender", "sender_raw", "text"})

    fax_stream: str
    sender: str | None = None  # the fax's data subject, so both are erased together
    sender_raw: str = ""
    text: str = ""
    languages: str = ""
    attempt: int = 1
    received_at: datetime | None = None  # the fax's, so a late OCR dates the words right

    def data_subject(self) -> str | None:
        return phone_subject(self.sender, self.sender_raw) or "fax:unknown-sender"


EVENTS: dict[str, type[Event]] = {
    "FaxReceived": FaxReceived,
    "FaxTextRecognized": FaxTextRecognized,
}
