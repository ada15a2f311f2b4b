"""Caller-name lookup for PBXs (3CX, Asterisk, FRITZ!Box online phone books, ...).

``GET /telephony/lookup/<token>?number=<as the PBX sends it>`` answers with the contact's
name, company and the URL of its card, as JSON. The token is a secret of its own (a PBX
holds it in its configuration); a wrong one is a 404. ``GET /telephony/3cx-crm-template.xml``
hands out the 3CX template that asks this endpoint (it holds no secret: the admin enters the
token in 3CX), so an installed Kartei need not be searched for the file.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.telephony.ratelimit import ClientRateLimit
from adapters.telephony.webhooks import token_matches
from hub import defaults
from hub.store import Database


class NumberIndex(Protocol):
    """What the lookup needs of the identity index (projections.identity.IdentityIndex)."""

    async def lookup_number(self, conn: AsyncConnection, raw: str) -> Any: ...

    def normalize(self, raw: str) -> str | None: ...


def lookup_router(db: Database, index: NumberIndex, token: str, base_url: str = "") -> APIRouter:
    """The lookup endpoint; `base_url` makes the card links absolute."""
    router = APIRouter(prefix="/telephony", tags=["telephony"])
    base = base_url.rstrip("/")
    limit = ClientRateLimit()
    template = defaults.shipped(defaults.CRM_TEMPLATE_3CX).read_bytes()

    @router.get("/3cx-crm-template.xml", include_in_schema=False)
    async def crm_template_3cx() -> Response:
        return Response(template, media_type="application/xml")

    @router.get("/lookup/{given}", include_in_schema=False)
    async def lookup(
        request: Request, given: str, number: str = Query("", max_length=64)
    ) -> JSONResponse:
        limit.check(request.client.host if request.client else None)
        if not token_matches(given, token):
            raise HTTPException(status_code=404)
        async with db.read() as conn:
            match = await index.lookup_number(conn, number) if number else None
        if match is None:
            normalized = index.normalize(number) if number else None
            return JSONResponse({"number": normalized, "found": False})
        return JSONResponse(
            {
                "number": match.number,  # the reading that matched ("49151..." -> +49151...)
                "found": True,
                "contact_id": match.contact_id,
                "name": match.display_name,
                "company": match.company or "",
                "customer_number": match.customer_number or "",
                "url": f"{base}/contacts/{match.contact_id}",
                "how": match.how,
            }
        )

    return router
