"""Unknown senders (email addresses and fax numbers): create a contact, or assign them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.events import NewEvent
from hub.events.mail import CommunicationLinked
from hub.web import data
from hub.web.pages_contacts import ID, caught_up, kartei, meta
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
KINDS = ("email", "fax")
LIST_LIMIT = 100
ASSIGN_LIMIT = 500  # messages of one sender per click; a second click assigns the rest


@router.get("/senders/unknown")
async def unknown_senders(request: Request) -> Response:
    mail, identity = _read_models(request)
    found: dict[str, list[Any]] = {"email": [], "fax": []}
    if mail is not None and identity is not None:
        async with kartei(request).store.db.read() as conn:
            found["email"] = await mail.unknown_senders(conn, identity, LIST_LIMIT)
            found["fax"] = await mail.unknown_fax_senders(conn, identity, LIST_LIMIT)
    return page(request, "unknown_senders.html", senders=found)


@router.post("/senders/assign")
async def assign_sender(request: Request, kind: Text, sender: Text, contact: Text) -> Response:
    """Assigns every unassigned message (or fax) of one sender to the contact named."""
    mail, _ = _read_models(request)
    if kind not in KINDS or mail is None or not sender.strip():
        return page(request, "message.html", 400, message="Not found.")
    async with kartei(request).store.db.read() as conn:
        contact_id = await _contact(request, conn, contact.strip()[:200])
        streams = await mail.unassigned_from(conn, sender.strip()[:254], kind, ASSIGN_LIMIT)
    if contact_id is None:
        return page(request, "message.html", 400, message="No single contact matches.")
    by = user_of(request).username
    last = 0
    async with kartei(request).store.transaction() as tx:  # all of them, or none
        for stream in streams:
            link = CommunicationLinked(message_stream=stream, contact_id=contact_id, by=by)
            done = await tx.append(stream, None, [NewEvent(link, None, meta(request))])
            last = max([last, *done.positions])
    if last:
        await caught_up(request, last, "mail", "timeline")
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


def _read_models(request: Request) -> tuple[Any, Any]:
    return data.projection(kartei(request), "mail"), data.projection(kartei(request), "identity")


async def _contact(request: Request, conn: Any, text: str) -> str | None:
    """A contact id as typed, else the one contact whose name, number or email matches."""
    directory = data.projection(kartei(request), "contacts")
    if directory is None or not text:
        return None
    if ID.match(text) and (card := await directory.resolve(conn, text)) is not None:
        return str(card.contact_id)
    found = await directory.search(conn, text, 2)
    return str(found[0].contact_id) if len(found) == 1 else None
