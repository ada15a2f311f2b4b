"""The FastAPI application: one factory that receives everything it serves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

import hub

if TYPE_CHECKING:
    from hub.bootstrap import Kartei


def create_app(kartei: Kartei, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """Builds the web app for a bootstrapped Kartei.

    `routers` come from the composition root (e.g. phone-system webhooks of an adapter);
    the web package itself knows no adapter.
    """
    app = FastAPI(title="Kartei", version=hub.__version__)
    app.state.kartei = kartei
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Each component's state; 200 when all are running, 503 otherwise. No login."""
        snapshot = kartei.health.snapshot()
        snapshot["version"] = hub.__version__
        return JSONResponse(snapshot, status_code=200 if snapshot["status"] == "ok" else 503)

    return app
