"""Privacy facts: a person erased, who looked at or exported whose data, admin actions.

None of these carries personal data of the customer: a contact is named by its opaque id,
staff by their user name, so the audit trail outlives an erasure (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.events.base import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactErased(Event):
    """A contact's personal data was erased (GDPR Art. 17) on request (stream
    ``contact-<id>``): their keys destroyed, their documents and read-model rows removed.

    The events stay; their personal fields read as erased from now on.
    """

    contact_id: str
    by: str  # the user name of whoever erased, or "cli:<os user>"
    reason: str = ""  # why (the request's reference, not the person's name)
    subjects: int = 0  # keys destroyed (the contact's, their addresses' and numbers')
    documents: int = 0  # archived documents removed
    events: int = 0  # events whose personal fields became unreadable
    # Retention holds that would have kept some of it, overridden with `justification`.
    overridden_holds: tuple[str, ...] = ()
    justification: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardViewed(Event):
    """A staff member opened a contact's card (stream ``audit-<day>``); recorded at most
    once per user and contact every few minutes (see hub/privacy/audit.py)."""

    contact_id: str
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactsSearched(Event):
    """A staff member or integration looked people up: on the search page, in the
    navigation's suggestions or through the JSON API's contact search (stream
    ``audit-<day>``). One event stands for a burst of lookups (typing asks once per
    keystroke; hub/privacy/searches.py): the size of the last query, and every contact
    the burst returned. The query is not kept, only its size: it is a name, number or
    address typed in, not tied to any subject's key, so the audit trail would keep it
    after that person is erased. The contacts returned are named by id, as a card view
    names its contact."""

    by: str
    words: int  # how many words the query had
    characters: int  # and how long it was
    found: tuple[str, ...] = ()  # ids of the contacts returned


@dataclass(frozen=True, slots=True, kw_only=True)
class DataExported(Event):
    """Everything stored about a contact was exported (GDPR Art. 15) (stream ``audit-<day>``)."""

    contact_id: str
    by: str
    documents: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminActionRecorded(Event):
    """An administrator changed the installation, e.g. a user account (stream
    ``audit-<day>``); `action` names it (``user.add``, ``user.role``, ...)."""

    action: str
    by: str
    target: str = ""  # what it acted on: a user name, a setting
    detail: str = ""


EVENTS: dict[str, type[Event]] = {
    "ContactErased": ContactErased,
    "CardViewed": CardViewed,
    "ContactsSearched": ContactsSearched,
    "DataExported": DataExported,
    "AdminActionRecorded": AdminActionRecorded,
}
