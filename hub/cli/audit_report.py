"""What `kartei privacy audit` prints: the audit trail in the user's language, as /audit
shows it (hub/web/templates/audit.html): each contact by its current name, an erased one
as "gelöschter Kontakt" (never the erased name), from the same lookup
(hub/privacy/audit.py `audit_names`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from hub.cli.words import Words
from hub.events import Recorded
from hub.events.privacy import (
    AdminActionRecorded,
    CardViewed,
    ContactErased,
    ContactsSearched,
    DataExported,
)
from hub.privacy.audit import ADMIN_ACTION_TEXT
from hub.sql import aware
from hub.web.i18n import format_datetime

# What happened, by its catalogue name (the /audit page's "Was" column).
KIND_TEXT: Mapping[type, str] = {
    CardViewed: "Card viewed",
    ContactsSearched: "Contacts searched",
    DataExported: "Data exported",
    ContactErased: "Contact erased",
    AdminActionRecorded: "Administration",
}
SHOWN_FOUND = 10  # contacts named of one search, as on /audit


class AuditLines:
    """Words each audit entry; `names` and `erased` from `audit_names`."""

    def __init__(
        self, say: Words, tz: ZoneInfo, names: Mapping[str, str], erased: set[str]
    ) -> None:
        self.say, self.tz, self.names, self.erased = say, tz, names, erased

    def line(self, r: Recorded) -> str:
        """ "07.12.2026 14:03  anna  Karte angesehen: Berta Bleibt" (plain text, no markup)."""
        e = r.event
        when = format_datetime(aware(r.recorded_at), self.say.language, self.tz)
        what = self.say(KIND_TEXT.get(type(e), r.type_name))
        said = ": ".join(filter(None, (what, self._details(r))))
        return _plain(f"{when}  {getattr(e, 'by', '')}  {said}")

    def contact(self, contact_id: str) -> str:
        """The contact's current name; an erased one unnamed (with its id, as /audit
        keeps it in the tooltip); the id of one the directory does not know."""
        if contact_id in self.names:
            return self.names[contact_id]
        if contact_id in self.erased:
            return f"{self.say('erased contact')} ({contact_id})"
        return contact_id

    def _details(self, r: Recorded) -> str:
        e, say = r.event, self.say
        match e:
            case CardViewed():
                return self.contact(e.contact_id)
            case DataExported():
                documents = say.counted(e.documents, "{count} document", "{count} documents")
                return f"{self.contact(e.contact_id)} – {documents}"
            case ContactErased():
                said = " – ".join(filter(None, (self.contact(e.contact_id), e.reason)))
                if e.overridden_holds:
                    said += f" · {say('Retention overridden')}: {e.justification}"
                return said
            case ContactsSearched():
                return self._search(e)
            case AdminActionRecorded():
                return self._admin(e)
        return ""

    def _search(self, e: ContactsSearched) -> str:
        say = self.say
        query = say.counted(
            e.characters, "query of {count} character", "query of {count} characters"
        )
        found = say.counted(len(e.found), "{count} contact found", "{count} contacts found")
        said = f"{query} · {found}"
        if e.found:
            said += ": " + ", ".join(self.contact(i) for i in e.found[:SHOWN_FOUND])
        if len(e.found) > SHOWN_FOUND:
            said += " " + say.counted(
                len(e.found) - SHOWN_FOUND, "and {count} more", "and {count} more"
            )
        return said

    def _admin(self, e: AdminActionRecorded) -> str:
        said = self.say(ADMIN_ACTION_TEXT.get(e.action, e.action))
        if e.action == "archive.list" and e.target.startswith("page "):
            number = e.target.removeprefix("page ")
            page = int(number) + 1 if number.isdigit() else number
            said += f" · {self.say('Page {number}', number=page)}"
        elif e.action != "archive.sign":
            said += f" {e.target}"
        return f"{said} {e.detail}".rstrip()


def _plain(text: str) -> str:
    """Names and reasons are typed by strangers: no control character reaches the
    terminal (an escape sequence would repaint it)."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
