"""Notes staff write on a contact (stream ``contact-<id>``), e.g. a call's one-line outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from hub.events.base import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteAdded(Event):
    """A staff member wrote a note on a contact (optionally about one call or message)."""

    personal_fields: ClassVar[frozenset[str]] = frozenset({"text"})

    note_id: str
    contact_id: str
    text: str = ""
    by: str | None = None
    # The call or message stream the note is about (e.g. the call it is the outcome of).
    about_stream: str | None = None

    def data_subject(self) -> str | None:
        return f"contact:{self.contact_id}"


EVENTS: dict[str, type[Event]] = {"NoteAdded": NoteAdded}
