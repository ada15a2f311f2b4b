"""Consent per channel on the card: record what a contact said (ConsentRecorded)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.contacts.decisions import ContactError
from hub.contacts.service import ContactService
from hub.store import ConcurrencyError
from hub.web.render import page, user_of

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


@router.post("/contacts/{contact_id}/consent")
async def record_consent(
    request: Request,
    contact_id: str,
    channel: Text,
    state: Text,
    source: Annotated[str, Form()] = "",
    given_on: Annotated[str, Form()] = "",
) -> Response:
    from hub.web.pages_contacts import contact_written  # the card's own module

    kartei = request.app.state.kartei
    service = ContactService(kartei.store, source="web")
    try:
        said = date.fromisoformat(given_on.strip()) if given_on.strip() else None
    except ValueError:
        return page(request, "message.html", 400, message="Invalid date.")
    if said is not None and said > date.today():
        return page(request, "message.html", 400, message="The date lies in the future.")
    try:
        await service.record_consent(
            contact_id[:200],
            channel.strip()[:20],
            state.strip()[:20],
            source=source[:1000],
            given_on=said,
            actor=user_of(request).username,
        )
    except (ContactError, ConcurrencyError) as err:
        return page(request, "message.html", 400, message=str(err))
    await contact_written(request, contact_id[:200])
    return RedirectResponse(f"/contacts/{contact_id[:200]}", status_code=303)
