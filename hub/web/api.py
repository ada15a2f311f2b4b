"""The JSON API for integrations (OpenAPI at /openapi.json): bearer API tokens or a session."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPBearer

from hub.web import data
from hub.web.pages_privacy import card_viewed, contacts_searched
from hub.web.render import user_of

router = APIRouter(
    prefix="/api", tags=["api"], dependencies=[Depends(HTTPBearer(auto_error=False))]
)


def _kartei(request: Request) -> Any:
    return request.app.state.kartei


def _contact(contact: Any) -> dict[str, Any]:
    out = asdict(contact)
    out["display_name"] = contact.display_name
    return out


@router.get("/contacts")
async def contacts(request: Request, q: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Contacts whose name, number, address or notes contain every word of `q`."""
    if not q.strip():
        return []
    kartei = _kartei(request)
    query = q[:200]
    found = (await data.search(kartei, query))["contacts"][: max(1, min(limit, 100))]
    await contacts_searched(request, query, [c.contact_id for c in found])
    return [_contact(c) for c in found]


@router.get("/contacts/{contact_id}")
async def contact(request: Request, contact_id: str) -> dict[str, Any]:
    """One contact's card, with its open tasks and risk flag."""
    card = await data.card(_kartei(request), contact_id[:200], limit=0)
    if card is None:
        raise HTTPException(404, "no such contact")
    await card_viewed(request, card.contact.contact_id)  # audited like the card page
    out = _contact(card.contact)
    out["open_tasks"] = [asdict(t) for t in card.tasks]
    out["risk"] = card.risk
    return out


@router.get("/contacts/{contact_id}/timeline")
async def timeline(
    request: Request, contact_id: str, kind: str = "", page: int = 0
) -> list[dict[str, Any]]:
    """A contact's history, newest first, 50 entries a page."""
    kinds = (kind,) if kind else ()
    card = await data.card(_kartei(request), contact_id[:200], kinds=kinds, page=max(0, page))
    if card is None:
        raise HTTPException(404, "no such contact")
    await card_viewed(request, card.contact.contact_id)  # the history is the card's too
    return [asdict(e) for e in card.entries]


@router.get("/tasks")
async def tasks(request: Request, scope: str = "mine") -> list[dict[str, Any]]:
    """Unfinished tasks: the caller's own (`mine`) or everyone's (`team`)."""
    kartei = _kartei(request)
    queue = data.projection(kartei, "tasks")
    if queue is None:
        return []
    assignee = user_of(request).username if scope == "mine" else None
    async with kartei.store.db.read() as conn:
        rows = await queue.unfinished(conn, assignee=assignee, now=datetime.now(UTC))
    return [asdict(r) for r in rows]


@router.get("/calls")
async def calls(request: Request, days: int = 1) -> list[dict[str, Any]]:
    """Calls of the last `days` days, newest first."""
    kartei = _kartei(request)
    timeline_ = data.projection(kartei, "timeline")
    if timeline_ is None:
        return []
    since = datetime.now(UTC) - timedelta(days=max(1, min(days, 366)))
    async with kartei.store.db.read() as conn:
        entries = await timeline_.recent(conn, "call", since, 500)
    return [asdict(e) for e in entries]
