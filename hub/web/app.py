"""The FastAPI application: one factory that receives everything it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles

import hub
from hub.privacy.searches import ContactSearches
from hub.web import (
    api,
    errors,
    pages_account,
    pages_archive,
    pages_calls,
    pages_consent,
    pages_contacts,
    pages_import,
    pages_privacy,
    pages_risk,
    pages_senders,
    pages_tasks,
    screenpop,
)
from hub.web.auth import Accounts
from hub.web.render import HERE
from hub.web.security import Gate

if TYPE_CHECKING:
    from hub.web.pages_import import ContactImport
    from hub.web.pages_risk import MessageWords
    from hub.web.port import Hub


def create_app(
    kartei: Hub,
    routers: Sequence[APIRouter] = (),
    importer: ContactImport | None = None,
    message_words: MessageWords | None = None,
) -> FastAPI:
    """Builds the web app for a bootstrapped Kartei.

    `routers` come from the composition root (e.g. phone-system webhooks of an adapter);
    the web package itself knows no adapter. Their routes check their own secret token;
    every other route requires a login (see hub/web/security.py).
    """
    app = FastAPI(title="Kartei", version=hub.__version__)
    app.state.kartei = kartei
    app.state.accounts = Accounts(kartei.store.db)
    app.state.language = kartei.settings.kartei.language
    app.state.tz = ZoneInfo(kartei.settings.kartei.timezone)
    app.state.pop_fade_seconds = kartei.settings.web.pop_fade_seconds
    app.state.pop = screenpop.PopHub(kartei, app.state.accounts)
    app.state.searches = ContactSearches(kartei.store)  # audited once per burst
    app.state.importer = importer  # the contact importer, from the composition root
    app.state.message_words = message_words  # the classifier's reading of a message
    external: list[APIRoute] = []
    for router in routers:
        app.include_router(router)
        external.extend(r for r in router.routes if isinstance(r, APIRoute))
    app.state.external_routes = tuple(external)
    app.add_middleware(Gate, accounts=app.state.accounts, external=app.state.external_routes)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (pages_account, pages_contacts, pages_senders, pages_tasks, screenpop, api):
        app.include_router(module.router)
    app.include_router(pages_consent.router)  # consent per channel, a block of the card
    # The call list, contact import, risk list and classification corrections.
    for module in (pages_calls, pages_import, pages_risk, pages_privacy, pages_archive):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Each component's state; 200 when all are running, 503 otherwise. No login."""
        snapshot = kartei.health.snapshot()
        snapshot["version"] = hub.__version__
        return JSONResponse(snapshot, status_code=200 if snapshot["status"] == "ok" else 503)

    return app


def app_routes(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Every (path, methods) the app serves, included routers flattened; mounts as "GET"."""
    out: list[tuple[str, frozenset[str]]] = []
    for context in iter_route_contexts(app.routes):
        methods = getattr(context, "methods", None) or {"GET"}
        out.append((str(context.path), frozenset(methods)))
    return out
