"""The gate in front of every route: login required, CSRF checked, safe response headers.

Deny by default: a route is open only when it is `/healthz`, the login page, a static
file, or one of the phone-system routes the composition root mounted (those check their
own secret token). Everything else needs a session cookie or an API token.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from urllib.parse import parse_qs, quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
)


def harden(response: Response, csp: str = CSP) -> Response:
    """The safe headers on a response (a route's own CSP, such as a mail frame's, stays)."""
    response.headers.setdefault("Content-Security-Policy", csp)
    for name, value in HEADERS[1:]:
        response.headers.setdefault(name, value)
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


class Gate:
    """The middleware, as plain ASGI: a streamed response (the screen pop's server-sent
    events) goes straight to the server, with no extra task and memory stream per
    connection, as Starlette's BaseHTTPMiddleware puts in between."""

    def __init__(self, app: ASGIApp, accounts: Accounts, external: Sequence[BaseRoute]) -> None:
        self.app = app
        self.accounts = accounts
        self.external = external

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        refusal = None
        if not is_open(request, self.external):
            refusal = await self._check(request)
        if refusal is not None:
            await harden(refusal)(scope, receive, send)
            return
        if "_body" in request.__dict__:  # the CSRF check read the form: hand it on
            receive = _replay(request.__dict__["_body"], receive)

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_hardened)

    async def _check(self, request: Request) -> Response | None:
        """None when the request may pass (its user on `request.state`), else the refusal."""
        user = None
        via_token = False
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = await self.accounts.session_user(cookie)
        header = request.headers.get("authorization", "")
        if user is None and header.lower().startswith("bearer "):
            user = await self.accounts.token_user(header[7:].strip())
            via_token = user is not None
        if user is None:
            return _refuse(request)
        request.state.user = user
        request.state.via_token = via_token
        if user.is_auditor and not _auditor_may(request):
            if request.method == "GET" and request.url.path == "/":
                return RedirectResponse("/archive", status_code=303)
            return _forbidden(request, "auditors read the archive only")
        if request.method not in SAFE_METHODS and not via_token:
            if not _same_origin(request):
                return _forbidden(request, "cross-origin request")
            sent = request.headers.get("x-csrf-token") or await form_csrf(request)
            if not sent or not hmac.compare_digest(sent, user.csrf):
                return _forbidden(request, "CSRF token missing or wrong")
        return None


def _forbidden(request: Request, detail: str) -> Response:
    """403: the error page in the user's language for a page, JSON for the API."""
    # Imported here: hub.web.errors builds on this module's `harden`.
    from hub.web.errors import refused

    return refused(request, 403, detail)


def _auditor_may(request: Request) -> bool:
    """An auditor (GoBD Z1) reads the archive and signs out; nothing else, no writes."""
    path = request.url.path
    if request.method == "POST":
        return path == "/logout"
    return request.method in SAFE_METHODS and (path == "/archive" or path.startswith("/archive/"))


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the route: the body already read first, then the client's own
    messages (a disconnect)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


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
