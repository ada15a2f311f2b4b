"""What identifies a contact: its email addresses and phone numbers, in indexable form."""

from __future__ import annotations

from hub.contacts.model import Contact
from hub.phone import switchboard_base

# A switchboard prefix shorter than this ("+49 30") would match half a city.
MIN_PREFIX_LENGTH = 8
_SWITCHBOARD_LABELS = ("landline", "switchboard", "fax", "other")


def normalize_email(address: str) -> str | None:
    """The form addresses are indexed under: trimmed, lower case, without mailto: or <>."""
    text = address.strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text):
        return None
    return text


def switchboard_prefixes(contact: Contact) -> set[str]:
    """The number prefixes whose direct dials reach this contact's switchboard: a
    company's fixed lines, and any number written with "-0" or labelled switchboard."""
    prefixes: set[str] = set()
    for p in contact.phones:
        base = switchboard_base(p.raw, p.number) if p.raw else None
        if base:
            prefixes.add(base)
        if p.label == "switchboard" or (
            contact.kind == "company" and p.label in _SWITCHBOARD_LABELS
        ):
            prefixes.add(p.number)
    return {p for p in prefixes if len(p) >= MIN_PREFIX_LENGTH}
