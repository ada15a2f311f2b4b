"""What a timeline row keeps of an event, and how a read fills in the personal fields.

A row keeps only what is not personal (direction, status, sizes, counts, Message-IDs) plus,
under ``sealed``, which event positions hold the fields it shows and under what names:
``{"<position>": {"subject": "subject", "snippet": "text"}}``. `opened` puts them back from
the sealed events (see projections/sealed.py), so erasing a data subject's key empties the
entries on every card without rebuilding the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.events.calls import CallEnded, CallPlaced, CallRinging
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.mail import EmailReceived, EmailSent, message_key
from hub.events.notes import NoteAdded
from projections.search import fold_one

SNIPPET_CHARS = 400
OCR_CHARS = 20_000  # OCR text shown on the card (collapsed); the document has the rest
# Characters of a text that search looks at. Indexing is the costliest step of capture
# (trigrams of every character, in the one SQLite writer: 12 KB mails halved first-sync
# throughput); an email's own words come first, the quoted history below them is indexed
# with the earlier mail it quotes. A fax's text is its whole content: more of it is kept.
SEARCH_CHARS = 5_000
FAX_SEARCH_CHARS = 20_000

Fields = dict[str, str]  # name on the card -> field of the event
Key = Callable[[str | None], str | None]  # a Message-ID's `message_key` (or a memo of it)

EMAIL_FIELDS: Fields = {
    "sender": "sender",
    "sender_name": "sender_name",
    "to": "to",
    "cc": "cc",
    "subject": "subject",
    "snippet": "text",
    "attachments": "attachments",
}
FAX_FIELDS: Fields = {
    "sender": "sender",
    "sender_raw": "sender_raw",
    "subject": "subject",
    "text": "text",
    "document_name": "document_name",
}
RINGING_FIELDS: Fields = {"number": "caller", "raw": "caller_raw", "name": "caller_name"}
PLACED_FIELDS: Fields = {"number": "callee", "raw": "callee_raw"}
ENDED_FIELDS: Fields = {"number": "number", "raw": "number_raw"}
NOTE_FIELDS: Fields = {"text": "text"}
LISTS = frozenset({"to", "cc", "attachments"})


def sealed(position: int, fields: Fields) -> dict[str, Fields]:
    return {str(position): dict(fields)}


def thread_key(
    e: EmailReceived | EmailSent, known: dict[str, str], stream: str, key: Key = message_key
) -> str:
    """The thread an email belongs to: that of a message it answers, when the timeline has
    one; else the first of its References (the thread's root), In-Reply-To, or itself."""
    for ref in (*e.references, e.in_reply_to):
        if (found := key(ref)) and found in known:
            return known[found]
    root = e.references[0] if e.references else e.in_reply_to
    return key(root) or key(e.message_id) or stream


def email_data(
    e: EmailReceived | EmailSent, position: int, thread: str, key: Key = message_key
) -> dict[str, Any]:
    return {
        "direction": "outbound" if isinstance(e, EmailSent) else "inbound",
        "message_id": key(e.message_id),
        "in_reply_to": key(e.in_reply_to),
        "thread": thread,
        "html": e.html_ref is not None,
        "sealed": sealed(position, EMAIL_FIELDS),
    }


def call_data(e: CallRinging | CallPlaced | CallEnded, position: int) -> dict[str, Any]:
    if isinstance(e, CallEnded):
        direction, fields, name_shown = e.direction, ENDED_FIELDS, False
    elif isinstance(e, CallPlaced):
        direction, fields, name_shown = "outbound", PLACED_FIELDS, False
    else:
        direction, fields, name_shown = "inbound", RINGING_FIELDS, True
    data: dict[str, Any] = {
        "direction": direction,
        "status": "ringing",
        "line": e.line,
        "extension": e.extension,
        "duration": None,
        "answered_by": None,
        "sealed": sealed(position, fields),
    }
    if not name_shown:
        data["name"] = ""
    return data


def fax_data(e: FaxReceived, position: int) -> dict[str, Any]:
    return {
        "direction": "inbound",
        "pages": e.pages,
        "document_type": e.document_type,
        "document_size": e.document_size,
        "document": bool(e.document_ref),
        "preview": bool(e.preview_ref),
        "document_error": e.document_error,
        "ocr_status": e.ocr_status,
        "text_source": e.text_source,
        "sealed": sealed(position, FAX_FIELDS),
    }


def fax_text(data: dict[str, Any], e: FaxTextRecognized, position: int) -> None:
    """A later OCR's text replaces the fax's (empty) one on the card."""
    data["sealed"].update(sealed(position, {"text": "text"}))
    data.update(ocr_status="done", text_source="ocr")


def note_data(e: NoteAdded, position: int) -> dict[str, Any]:
    return {"by": e.by, "about": e.about_stream, "sealed": sealed(position, NOTE_FIELDS)}


def search_text(e: EmailReceived | EmailSent | FaxReceived | NoteAdded) -> str:
    """What message search looks at, folded (umlauts in their ASCII spelling)."""
    if isinstance(e, NoteAdded):
        return fold_one(e.text[:SEARCH_CHARS])
    limit = FAX_SEARCH_CHARS if isinstance(e, FaxReceived) else SEARCH_CHARS
    return fold_one(f"{e.subject}\n{e.text[:limit]}")


# -- reading ----------------------------------------------------------------------------


def positions_of(data: dict[str, Any]) -> list[int]:
    return [int(p) for p in data.get("sealed", {})]


def opened(data: dict[str, Any], documents: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The row's data with its personal fields filled in from the opened events."""
    mapping: dict[str, Fields] = data.pop("sealed", {})
    for position in sorted(mapping, key=int):
        document = documents.get(int(position), {})
        for name, field in mapping[position].items():
            if field in document:
                data[name] = _SHAPES.get(name, _same)(document[field])
            else:  # erased (or never set): an empty value the templates can show
                data.setdefault(name, [] if name in LISTS else "")
    return data


def _same(value: Any) -> Any:
    return value


def _attachments(value: Any) -> list[dict[str, Any]]:
    return [
        {"name": a.get("name", ""), "type": a.get("content_type", ""), "size": a.get("size", 0)}
        for a in value or ()
        if isinstance(a, dict)
    ]


_SHAPES: dict[str, Callable[[Any], Any]] = {
    "snippet": lambda v: str(v or "")[:SNIPPET_CHARS],
    "text": lambda v: str(v or "")[:OCR_CHARS],
    "attachments": _attachments,
    "to": lambda v: list(v or ()),
    "cc": lambda v: list(v or ()),
}
