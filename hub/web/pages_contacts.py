"""The contact card (history, notes, tasks), editing, merging, and the email viewer."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import nh3
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.archive import Archive, ArchiveError
from hub.contacts import edits
from hub.contacts.decisions import ContactError
from hub.contacts.service import ContactService
from hub.events import Metadata, NewEvent
from hub.events.mail import CommunicationLinked, EmailReceived, EmailSent
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskOpened
from hub.phone import written_form
from hub.store import ConcurrencyError
from hub.web import contact_form, data, pages_faxes
from hub.web.due import parse_due
from hub.web.pages_privacy import card_viewed
from hub.web.render import page, user_of
from hub.web.security import harden

router = APIRouter(include_in_schema=False)
router.include_router(pages_faxes.router)  # faxes show on the card; their files come from here
Text = Annotated[str, Form()]
Optional = Annotated[str, Form()]
KIND_FILTERS = ("email", "call", "fax", "note", "task", "risk")
PERIODS = {"30": 30, "90": 90, "365": 365}
FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; base-uri 'none'"
FRAME_CSP_IMAGES = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; base-uri 'none'"
)
WRITE_WAIT_SECONDS = 2.0
ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def kartei(request: Request) -> Any:
    return request.app.state.kartei


def meta(request: Request) -> Metadata:
    return Metadata(source="web", actor=user_of(request).username)


async def caught_up(request: Request, position: int, *names: str) -> None:
    """Read-your-writes: waits (briefly) until running projections have applied `position`."""
    projections = request.app.state.kartei.projections
    for name in names:
        runner = projections.get(name)
        if runner is None or runner.health.state != "ok":
            continue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WRITE_WAIT_SECONDS):
                await runner.wait_for(position)


async def contact_written(request: Request, contact_id: str) -> None:
    """Waits until the directory and identity index show a contact's latest event."""
    stream = await kartei(request).store.read_stream(f"contact-{contact_id}")
    if stream:
        await caught_up(request, stream[-1].position, "contacts", "identity")


def _not_found(request: Request) -> HTMLResponse:
    return page(request, "message.html", 404, message="Not found.")


@router.get("/contacts/new")
async def new_contact_form(request: Request, phone: str = "", email: str = "") -> Response:
    # A number from the pop or the call list (E.164) as people write it: "030 88747-13".
    shown = written_form(phone[:64], contact_form.region(request)[0]) if phone else ""
    form = edits.CardForm({"emails": email[:254]}, ((shown, ""),))
    return contact_form.render(request, None, form)


@router.post("/contacts")
async def create_contact(request: Request) -> Response:
    form, _ = await contact_form.posted(request)
    service = ContactService(kartei(request).store, source="web")
    try:
        card = edits.card(form, *contact_form.region(request))
        contact_id = await service.create(card, actor=user_of(request).username)
    except edits.FormError as err:
        return contact_form.render(request, None, form, err)
    except (ContactError, ValueError) as err:
        return page(request, "message.html", 400, message=str(err))
    await contact_written(request, contact_id)
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.get("/contacts/{contact_id}")
async def contact_card(
    request: Request, contact_id: str, kind: str = "", period: str = "", page_no: int = 0
) -> Response:
    if not ID.match(contact_id):
        return _not_found(request)
    kinds = (kind,) if kind in KIND_FILTERS else ()
    days = PERIODS.get(period)
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    found = await data.card(
        kartei(request), contact_id, kinds=kinds, since=since, page=max(0, min(page_no, 10_000))
    )
    if found is None:
        return _not_found(request)
    if found.contact.merged_into:
        return RedirectResponse(f"/contacts/{found.contact.merged_into}", status_code=303)
    await card_viewed(request, contact_id)
    return page(
        request,
        "contact.html",
        card=found,
        contact=found.contact,
        kind=kind if kinds else "",
        period=period if days else "",
        page_no=page_no,
        kinds=KIND_FILTERS,
    )


@router.get("/contacts/{contact_id}/edit")
async def edit_form(request: Request, contact_id: str) -> Response:
    service = ContactService(kartei(request).store)
    contact = await service.load(contact_id[:200])
    if not contact.exists:
        return _not_found(request)
    return contact_form.render(request, contact, edits.shown(contact))


@router.post("/contacts/{contact_id}/edit")
async def save_contact(request: Request, contact_id: str) -> Response:
    """Records what the user changed on the form, and nothing when they changed nothing."""
    form, shown_version = await contact_form.posted(request)
    service = ContactService(kartei(request).store, source="web")
    contact = await service.load(contact_id[:200])
    if not contact.exists:
        return _not_found(request)
    try:
        changes = edits.changes(contact, form, *contact_form.region(request))
        await service.change(
            contact.contact_id,
            changes,
            expected_version=shown_version or contact.version,
            actor=user_of(request).username,
        )
    except ConcurrencyError:
        return page(request, "message.html", 409, message="Someone else changed this contact.")
    except edits.FormError as err:
        return contact_form.render(request, contact, form, err, shown_version)
    except (ContactError, ValueError) as err:
        return page(request, "message.html", 400, message=str(err))
    await contact_written(request, contact.contact_id)
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.post("/contacts/{contact_id}/merge")
async def merge(request: Request, contact_id: str, duplicate: Text) -> Response:
    service = ContactService(kartei(request).store, source="web")
    try:
        await service.merge(
            contact_id[:200], duplicate.strip()[:200], actor=user_of(request).username
        )
    except (ContactError, ConcurrencyError, ValueError) as err:
        return page(request, "message.html", 400, message=str(err))
    await contact_written(request, duplicate.strip()[:200])
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.post("/contacts/{contact_id}/signature-numbers/remove")
async def remove_signature_number(request: Request, contact_id: str, number: Text) -> Response:
    """Staff take back a number offered from an email signature."""
    service = ContactService(kartei(request).store, source="web")
    try:
        await service.remove_signature_number(
            contact_id[:200], number.strip()[:32], actor=user_of(request).username
        )
    except (ContactError, ConcurrencyError) as err:
        return page(request, "message.html", 400, message=str(err))
    await contact_written(request, contact_id[:200])
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.post("/contacts/{contact_id}/notes")
async def add_note(
    request: Request, contact_id: str, text: Text, about: Optional = "", back: Optional = ""
) -> Response:
    text = text.strip()[:5000]
    if text:
        note = NoteAdded(
            note_id=uuid.uuid4().hex,
            contact_id=contact_id[:200],
            text=text,
            by=user_of(request).username,
            about_stream=about[:200] or None,
        )
        done = await kartei(request).store.append(
            f"contact-{contact_id[:200]}", None, [NewEvent(note, None, meta(request))]
        )
        await caught_up(request, done.positions[-1], "timeline")
    if back == "none":
        return Response(status_code=204)
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


@router.post("/contacts/{contact_id}/tasks")
async def open_task(
    request: Request,
    contact_id: str,
    title: Text,
    due: Optional = "",
    assignee: Optional = "",
    back: Optional = "",
) -> Response:
    title = title.strip()[:300]
    if title:
        await append_task(
            request, title, contact_id[:200], due, assignee or user_of(request).username
        )
    if back == "none":
        return Response(status_code=204)
    return RedirectResponse(f"/contacts/{contact_id}", status_code=303)


async def append_task(
    request: Request, title: str, contact_id: str | None, due: str, assignee: str
) -> str:
    task_id = uuid.uuid4().hex
    due_at, due_day = parse_due(due, request.app.state.tz)
    event = TaskOpened(
        task_id=task_id,
        title=title,
        kind="manual",
        contact_id=contact_id,
        assignee=assignee[:64] or None,
        due=due_at,
        due_day=due_day,
    )
    done = await kartei(request).store.append(
        f"task-{task_id}", 0, [NewEvent(event, None, meta(request))]
    )
    await caught_up(request, done.positions[-1], "tasks", "timeline")
    return task_id


@router.get("/messages/{stream}")
async def message(request: Request, stream: str) -> Response:
    email = await _email(request, stream)
    if email is None:
        return _not_found(request)
    thread = await data.email_thread(kartei(request), stream)
    outbound = isinstance(email, EmailSent)
    return page(
        request, "message_view.html", email=email, stream=stream, thread=thread, outbound=outbound
    )


@router.get("/messages/{stream}/html")
async def message_html(request: Request, stream: str, images: bool = False) -> Response:
    """The email's HTML, sanitized, for a sandboxed frame; remote images only on request."""
    email = await _email(request, stream)
    if email is None or not email.html_ref:
        return HTMLResponse("", status_code=404)
    try:
        raw = Archive(kartei(request).settings.data_dir / "archive").get(email.html_ref)
    except (ArchiveError, OSError, ValueError):
        return HTMLResponse("", status_code=404)
    clean = sanitize(raw.decode("utf-8", "replace"))
    response = HTMLResponse(clean)
    return harden(response, FRAME_CSP_IMAGES if images else FRAME_CSP)


@router.get("/messages/{stream}/attachments/{index}")
async def attachment(request: Request, stream: str, index: int) -> Response:
    email = await _email(request, stream)
    if email is None or not 0 <= index < len(email.attachments):
        return _not_found(request)
    item = email.attachments[index]
    try:
        body = Archive(kartei(request).settings.data_dir / "archive").get(item.ref)
    except (ArchiveError, OSError, ValueError):
        return _not_found(request)
    safe = re.sub(r"[^A-Za-z0-9._ -]", "_", item.name)[:120] or "attachment"
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


@router.post("/messages/{stream}/link")
async def link_message(request: Request, stream: str, contact_id: Text) -> Response:
    if await _email(request, stream) is None or not ID.match(contact_id.strip()):
        return _not_found(request)
    event = CommunicationLinked(
        message_stream=stream, contact_id=contact_id.strip(), by=user_of(request).username
    )
    done = await kartei(request).store.append(stream, None, [NewEvent(event, None, meta(request))])
    await caught_up(request, done.positions[-1], "timeline")
    return RedirectResponse(f"/contacts/{contact_id.strip()}", status_code=303)


async def _email(request: Request, stream: str) -> EmailReceived | EmailSent | None:
    if not stream.startswith("email-") or not ID.match(stream):
        return None
    for r in await kartei(request).store.read_stream(stream):
        if isinstance(r.event, EmailReceived | EmailSent):
            return r.event
    return None


def sanitize(html: str) -> str:
    """Email HTML without scripts, handlers, forms or remote loads other than images."""
    return nh3.clean(
        html,
        url_schemes={"https", "http", "mailto", "cid", "data"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
