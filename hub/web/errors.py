"""Error answers: pages get a page in the app's look and the user's language (403, 404,
405, a failing page's 500, a lost database's 503, never a traceback); the JSON API and the
phone systems' routes keep FastAPI's JSON answers."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.store.errors import database_away, first_line
from hub.web.render import page
from hub.web.security import harden

log = logging.getLogger(__name__)

# status -> (title, text), English keys of the catalogue (hub/web/i18n.py)
PROBLEMS = {
    400: ("Invalid request", "The address contains values this page cannot read."),
    403: ("Access denied", "Your account may not open this page or carry out this action."),
    404: ("Page not found", "There is no page at this address; the link may be out of date."),
    405: ("Action not possible", "This action is not possible here."),
    500: (
        "An error occurred",
        "The error was logged. Please try again, or tell your administrator.",
    ),
    503: (
        "Temporarily unavailable",
        "The database cannot be reached at the moment. Please try again in a few seconds.",
    ),
}
RETRY = {"Retry-After": "5"}
OTHER = ("Request not processed", "The request could not be processed.")


def install(app: FastAPI) -> None:
    """Registers the handlers on the app; call it after the security gate is added, so
    that `DatabaseAway` is outside the gate and sees its session lookups fail too."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _failed)
    app.add_middleware(DatabaseAway)


class DatabaseAway:
    """A request that failed because the database is away answers 503 with one WARNING
    line in the log, not a traceback.

    Starlette's handler for `Exception` answers and then raises the exception on, so the
    server logs "Exception in ASGI application" with a full traceback: right for a bug,
    but during a PostgreSQL restart that is one traceback per request. This middleware
    sits outside the gate (whose session lookup is most requests' first query) and
    inside Starlette's error middleware: a database away is answered here and goes no
    further; every other error passes on to `_failed` and is logged with its traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started or not database_away(exc):
                raise  # a bug, or an answer already under way: the server logs it
            request = Request(scope, receive)
            await unavailable(request, exc)(scope, receive, send)


def for_a_page(request: Request) -> bool:
    """Whether a browser asked for a page: not the JSON API, not a phone system's route."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return False
    external = getattr(request.app.state, "external_routes", ())
    if any(route.matches(request.scope)[0] is Match.FULL for route in external):
        return False
    return "text/html" in request.headers.get("accept", "")


def problem(request: Request, status: int, headers: Mapping[str, str] | None = None) -> Response:
    title, text = PROBLEMS.get(status, OTHER)
    answer = page(request, "error.html", status, title=title, text=text, status=status)
    answer.headers.update(headers or {})
    return harden(answer)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not for_a_page(request):
        return await http_exception_handler(request, exc)
    return problem(request, exc.status_code, exc.headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not for_a_page(request):
        return await request_validation_exception_handler(request, exc)
    return problem(request, 400)


def refused(request: Request, status: int, detail: str) -> Response:
    """A refusal before any route runs (the security gate): a page for a browser's page
    request, FastAPI's JSON shape for the API and for scripts."""
    if for_a_page(request):
        return problem(request, status)
    return harden(JSONResponse({"detail": detail}, status))


def unavailable(request: Request, exc: BaseException) -> Response:
    """503 with Retry-After for a database away, logged as one line: the first line of
    the error (SQLAlchemy's adds the statement and its parameters on further lines)."""
    log.warning(
        "%s %s: database unavailable: %s", request.method, request.url.path, first_line(exc)
    )
    if not for_a_page(request):
        return harden(JSONResponse({"detail": "Database unavailable"}, 503, RETRY))
    return problem(request, 503, RETRY)


async def _failed(request: Request, exc: Exception) -> Response:
    """A route failed: the page says so; Starlette raises the exception on after this
    answer, so the server logs it with its traceback."""
    if database_away(exc):  # restarting or unreachable: try again, not a failure of ours
        return unavailable(request, exc)
    if not for_a_page(request):
        return harden(JSONResponse({"detail": "Internal Server Error"}, 500))
    try:
        return problem(request, 500)
    except Exception:  # the page itself cannot render: the plainest answer that says so
        log.exception("the error page failed")
        return harden(PlainTextResponse("500 – Interner Fehler / Internal Server Error", 500))
