"""The gate in front of every route: login required, CSRF checked, safe response headers.

Deny by default: a route is open only when it is `/healthz`, the login page, a static
file, or one of the phone-system routes the composition root mounted (those check their
own secret token). Everything else needs a session cookie or an API token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qs, quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.routing import BaseRoute, Match

from hub.web.auth import Accounts

SESSION_COOKIE = "kartei_session"
LOGIN_CSRF_COOKIE = "kartei_login_csrf"
PUBLIC_PATHS = frozenset({"/healthz", "/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1_048_576

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; "
    "base-uri 'none'; object-src 'none'"
)

Next = Callable[[Request], Awaitable[Response]]


def harden(response: Response, csp: str = CSP) -> Response:
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


def is_open(request: Request, external: Sequence[BaseRoute]) -> bool:
    """Whether a request needs no login: public paths and the mounted phone-system routes."""
    path = request.url.path
    if path in PUBLIC_PATHS or path.startswith("/static/"):
        return True
    return any(route.matches(request.scope)[0] is Match.FULL for route in external)


async def form_csrf(request: Request) -> str:
    """The `csrf` field of a URL-encoded form body (read once, cached by Starlette)."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return ""
        values = parse_qs(body.decode("utf-8", "replace")).get("csrf", [""])
        return values[0]
    return request.query_params.get("csrf", "")


def gate(
    accounts: Accounts, external: Sequence[BaseRoute]
) -> Callable[[Request, Next], Awaitable[Response]]:
    """The HTTP middleware function."""

    async def middleware(request: Request, call_next: Next) -> Response:
        if is_open(request, external):
            return harden(await call_next(request))
        user = None
        via_token = False
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = await accounts.session_user(cookie)
        header = request.headers.get("authorization", "")
        if user is None and header.lower().startswith("bearer "):
            user = await accounts.token_user(header[7:].strip())
            via_token = user is not None
        if user is None:
            return _refuse(request)
        request.state.user = user
        request.state.via_token = via_token
        if request.method not in SAFE_METHODS and not via_token:
            if not _same_origin(request):
                return harden(JSONResponse({"detail": "cross-origin request"}, 403))
            sent = request.headers.get("x-csrf-token") or await form_csrf(request)
            if not sent or not hmac.compare_digest(sent, user.csrf):
                return harden(JSONResponse({"detail": "CSRF token missing or wrong"}, 403))
        return harden(await call_next(request))

    return middleware


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _refuse(request: Request) -> Response:
    wants_html = "text/html" in request.headers.get("accept", "")
    if request.method == "GET" and wants_html and not request.url.path.startswith("/api/"):
        target = quote(request.url.path, safe="/")
        return harden(RedirectResponse(f"/login?next={target}", status_code=303))
    return harden(JSONResponse({"detail": "login required"}, 401))
