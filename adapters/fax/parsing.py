"""An email from a fax line or provider in, the fax's facts out; pure, no I/O.

The email is read by the mail parser (adapters/mail/parsing.py); the first provider
profile that matches says where the sender's and receiver's numbers and the page count
are, and which attachment is the fax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.fax.profiles import Profile
from adapters.mail.parsing import AttachmentData, MailParseError, ParsedEmail, parse_email

FAX_TYPES = {"application/pdf": "pdf", "image/tiff": "tiff", "image/tif": "tiff"}
_EXTENSIONS = {".pdf": "pdf", ".tif": "tiff", ".tiff": "tiff"}
MAX_SCAN = 20_000  # characters of subject+body searched by the patterns
_SPACE = re.compile(r"\s+")
# A number glued to a word or a path is part of a name, not a phone number: HylaFAX's queue
# file recvq/fax00000042.tif, a document Fax_0221987654.pdf. No profile may read it as one.
_GLUED_BEFORE = re.compile(r"[\w/\\]$")
_GLUED_AFTER = re.compile(r"^(?:[\w/\\]|\.\w)")


class FaxParseError(ValueError):
    """The email is unreadable or carries no fax document."""


@dataclass(frozen=True, slots=True)
class FaxMessage:
    """What a profile read from one fax email."""

    mail: ParsedEmail
    profile: str
    sender_raw: str
    receiver_raw: str
    pages: int | None  # as the provider states it
    document: AttachmentData
    kind: str  # pdf | tiff


def kind_by_content(data: bytes) -> str | None:
    """pdf or tiff by the document's first bytes (a provider's content type can be wrong)."""
    head = data[:4]
    if head == b"%PDF":
        return "pdf"
    if head in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def document_kind(attachment: AttachmentData) -> str | None:
    """pdf, tiff, or None when the attachment is neither (by type, name or magic bytes)."""
    if kind := kind_by_content(attachment.data):
        return kind
    if kind := FAX_TYPES.get(attachment.content_type.lower()):
        return kind
    name = attachment.name.lower()
    return next((k for ext, k in _EXTENSIONS.items() if name.endswith(ext)), None)


def parse_fax(raw: bytes, profiles: tuple[Profile, ...]) -> FaxMessage:
    """Reads one fax email; raises FaxParseError when it is no readable fax."""
    try:
        mail = parse_email(raw)
    except MailParseError as err:
        raise FaxParseError(str(err)) from err
    scan = f"{mail.subject}\n{mail.text}"[:MAX_SCAN]
    for profile in profiles:
        if not profile.matches(mail.sender, mail.subject, mail.text[:MAX_SCAN]):
            continue
        found = _document(mail, profile)
        if found is None:
            continue
        document, kind = found
        return FaxMessage(
            mail=mail,
            profile=profile.name,
            sender_raw=_first(profile.sender, scan, "number"),
            receiver_raw=_first(profile.receiver, scan, "number"),
            pages=_pages(profile, scan),
            document=document,
            kind=kind,
        )
    names = ", ".join(a.name for a in mail.attachments) or "none"
    raise FaxParseError(f"no fax document (PDF or TIFF) in this email (attachments: {names})")


def _document(mail: ParsedEmail, profile: Profile) -> tuple[AttachmentData, str] | None:
    candidates = [(a, document_kind(a)) for a in mail.attachments]
    named = [
        (a, k or _by_name(a))
        for a, k in candidates
        if profile.attachment is not None and profile.attachment.search(a.name)
    ]
    for attachment, kind in named + candidates:
        if kind is not None:
            return attachment, kind
    return None


def _by_name(attachment: AttachmentData) -> str | None:
    name = attachment.name.lower()
    return next((k for ext, k in _EXTENSIONS.items() if name.endswith(ext)), None)


def _first(patterns: tuple[re.Pattern[str], ...], text: str, group: str) -> str:
    for pattern in patterns:
        for m in pattern.finditer(text):
            if not _glued(text, m.start(group), m.end(group)):
                return _SPACE.sub(" ", m.group(group)).strip()
    return ""


def _glued(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] runs on into a word, path or file name on either side."""
    before, after = text[max(0, start - 1) : start], text[end : end + 2]
    return bool(_GLUED_BEFORE.search(before) or _GLUED_AFTER.search(after))


def _pages(profile: Profile, text: str) -> int | None:
    value = _first(profile.pages, text, "pages")
    return int(value) if value.isdigit() else None
