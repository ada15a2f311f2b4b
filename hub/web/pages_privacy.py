"""Privacy in the web app (admins only): erase a contact, download their data, the audit
trail. Every card view is recorded (hub/privacy/audit.py), at most once per user, contact
and a few minutes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.archive import Archive
from hub.events.privacy import (
    AdminActionRecorded,
    CardViewed,
    ContactErased,
    ContactsSearched,
    DataExported,
)
from hub.privacy.audit import (
    ADMIN_ACTION_TEXT,
    CardViews,
    audit_names,
    audit_trail,
    contact_ids,
    record,
)
from hub.privacy.dossier import NO_CONTACT, PrivacyError
from hub.privacy.erase import RetentionHoldError, erase, now_day, plan_erasure
from hub.privacy.export import export_zip
from hub.privacy.searches import ContactSearches
from hub.web.i18n import said
from hub.web.render import page, user_of
from projections.erasure import forgetting

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
SHOWN = 300
SETTLE_SECONDS = 60.0


def _forbidden(request: Request) -> Response:
    return page(request, "message.html", 403, message="Forbidden.")


def _refused(request: Request, err: PrivacyError) -> Response:
    """Why an export or erasure cannot be done, in the user's language ("Kontakt ... ist
    bereits gelöscht"); 404 where there is no such contact."""
    status = 404 if err.key == NO_CONTACT else 409
    message = said([(err.key, err.values)], user_of(request).language)
    return page(request, "message.html", status, message=message)


async def card_viewed(request: Request, contact_id: str) -> None:
    """Records that the signed-in user looked at a contact's card."""
    views: CardViews | None = getattr(request.app.state, "card_views", None)
    if views is None:
        kartei = request.app.state.kartei
        views = CardViews(kartei.store, kartei.settings.privacy.card_view_minutes)
        request.app.state.card_views = views
    await views.viewed(user_of(request).username, contact_id)


async def contacts_searched(request: Request, query: str, found: Iterable[str]) -> None:
    """Records that the signed-in user looked people up: who, the query's size and whom
    it returned, not what was typed (a name or number that would outlive the person's
    erasure in the audit trail); a burst of lookups (typing) is one event."""
    searches: ContactSearches = request.app.state.searches
    await searches.searched(user_of(request).username, query, found)


@router.get("/contacts/{contact_id}/export")
async def export_contact(request: Request, contact_id: str) -> Response:
    user = user_of(request)
    if not user.is_admin:
        return _forbidden(request)
    kartei = request.app.state.kartei
    archive = Archive(kartei.settings.data_dir / "archive")
    try:
        zipped, held = await export_zip(kartei, archive, contact_id, user.language)
    except PrivacyError as err:
        return _refused(request, err)
    await record(kartei.store, DataExported(contact_id=contact_id, by=user.username, **held))
    name = f"kartei-export-{contact_id}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(zipped, media_type="application/zip", headers=headers)


@router.post("/contacts/{contact_id}/erase")
async def erase_contact(
    request: Request,
    contact_id: str,
    reason: Annotated[str, Form(max_length=500)] = "",
    justification: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    user = user_of(request)
    if not user.is_admin:
        return _forbidden(request)
    if confirm != contact_id:
        return page(request, "message.html", 400, message="Type the contact id to confirm.")
    kartei = request.app.state.kartei
    settings = kartei.settings

    async def settle() -> None:
        """The read models past the erasure, here or in the process that runs them (one
        that is stuck is purged as it is: the second purge runs either way)."""
        head = await kartei.store.head()
        try:
            async with asyncio.timeout(SETTLE_SECONDS):
                for runner in kartei.projections.values():
                    if runner.following or await runner.leases.holder(runner.lease):
                        await runner.caught_up_to(head + 1)
        except TimeoutError:
            log.warning("erasure of %s: read models did not catch up in time", contact_id)

    try:
        plan = await plan_erasure(kartei.store, contact_id, settings.privacy.holds, now_day())
        await erase(
            kartei.store,
            Archive(settings.data_dir / "archive"),
            plan,
            by=user.username,
            reason=reason,
            justification=justification,
            forgetting=forgetting(r.projection for r in kartei.projections.values()),
            settle=settle,
        )
    except RetentionHoldError as err:
        return page(request, "privacy_held.html", 409, contact_id=contact_id, holds=err.holds)
    except PrivacyError as err:
        return _refused(request, err)
    return RedirectResponse("/audit", status_code=303)


def _row(r: Any) -> dict[str, Any]:
    e = r.event
    kind = {
        CardViewed: "viewed",
        ContactsSearched: "searched",
        DataExported: "exported",
        ContactErased: "erased",
        AdminActionRecorded: "admin",
    }.get(type(e), "other")
    return {"at": r.recorded_at, "kind": kind, "event": e}


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    if not user_of(request).is_admin:
        return _forbidden(request)
    kartei = request.app.state.kartei
    await request.app.state.searches.flush()  # the searches of the last few seconds too
    trail = await audit_trail(kartei.store, SHOWN)
    names, erased = await audit_names(kartei, contact_ids(trail))
    rows = [_row(r) for r in reversed(trail)]
    actions = ADMIN_ACTION_TEXT
    return page(request, "audit.html", rows=rows, names=names, erased=erased, actions=actions)
