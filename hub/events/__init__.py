"""Kartei's event vocabulary and the table of stable names it is stored under.

Events are stored under the names in `EVENT_TYPES`, not under module paths, so code can
move without rewriting history. Each domain module contributes its classes here.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.events import calls, classification, contacts, fax, mail, notes, privacy, tasks
from hub.events.base import Event, Metadata, NewEvent, Recorded, UnknownEvent, UnreadableEvent
from hub.events.codec import EventCodec, UnregisteredEventError
from hub.events.upcasting import UPCASTERS

# One line per domain module; each module keeps its own explicit name table.
EVENT_TYPES: Mapping[str, type[Event]] = {
    **calls.EVENTS,
    **tasks.EVENTS,
    **contacts.EVENTS,
    **mail.EVENTS,
    **classification.EVENTS,
    **notes.EVENTS,
    **fax.EVENTS,
    **privacy.EVENTS,
}


def default_codec() -> EventCodec:
    """The codec for Kartei's own vocabulary."""
    return EventCodec(EVENT_TYPES, UPCASTERS)


__all__ = [
    "EVENT_TYPES",
    "UPCASTERS",
    "Event",
    "EventCodec",
    "Metadata",
    "NewEvent",
    "Recorded",
    "UnknownEvent",
    "UnreadableEvent",
    "UnregisteredEventError",
    "default_codec",
]
