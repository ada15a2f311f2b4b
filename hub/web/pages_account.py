"""Login, logout, the user's own settings, the admin's user list, dashboard and search."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hub.events.privacy import AdminActionRecorded
from hub.phone import written_form
from hub.privacy.audit import record
from hub.web import data
from hub.web.auth import Accounts, UserError
from hub.web.chart import chart
from hub.web.pages_privacy import contacts_searched
from hub.web.render import page, user_of
from hub.web.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def _safe_next(target: str) -> str:
    """Only a local path; never `//host` or a scheme (open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", login_csrf=token, next=_safe_next(next))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Text,
    password: Text,
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf):
        return HTMLResponse("CSRF token missing or wrong", status_code=403)
    session = await accounts(request).login(username[:200], password[:2000])
    if session is None:
        token = secrets.token_urlsafe(24)
        refused = page(
            request, "login.html", 401, login_csrf=token, next=_safe_next(next), failed=True
        )
        refused.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login"
        )
        return refused
    response = RedirectResponse(_safe_next(next), status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, session.token, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await accounts(request).logout(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def dashboard(request: Request) -> Response:
    kartei = request.app.state.kartei
    now = datetime.now(request.app.state.tz)  # today and this week are the firm's
    board = await data.dashboard(kartei, user_of(request).username, now)
    board["chart"] = chart(board["weeks"]) if board.get("weeks") else None
    return page(request, "dashboard.html", board=board, now=now)


@router.get("/search")
async def search(request: Request, q: str = "") -> Response:
    found = await data.search(request.app.state.kartei, q[:200]) if q.strip() else None
    if found is not None:  # audited like the JSON API's search: whose data it showed
        entries = [e.contact_id for e in found["entries"] if e.contact_id]
        await contacts_searched(request, q[:200], [*found_ids(found), *entries])
    return page(request, "search.html", q=q[:200], found=found)


@router.get("/search/suggest")
async def suggest(request: Request, q: str = "") -> JSONResponse:
    """The nav search's suggestions as one types: up to eight contacts (name, company,
    number as written), each with its card's address."""
    if len(q.strip()) < 2:
        return JSONResponse([])
    found = await data.search(request.app.state.kartei, q[:200])
    await contacts_searched(request, q[:200], found_ids(found)[:8])  # one per burst
    region = request.app.state.kartei.settings.contacts.default_region
    out = []
    for c in found["contacts"][:8]:
        sub = [c.company] if c.company and c.company != c.display_name else []
        if c.phones:
            sub.append(written_form(c.phones[0].number, region))
        out.append(
            {"name": c.display_name, "sub": " · ".join(sub), "href": f"/contacts/{c.contact_id}"}
        )
    return JSONResponse(out)


def found_ids(found: dict[str, list[Any]]) -> list[str]:
    return [c.contact_id for c in found["contacts"]]


@router.get("/settings")
async def settings_page(request: Request, saved: bool = False, token: str = "") -> Response:
    return page(request, "settings.html", saved=saved, token=token)


@router.post("/settings")
async def save_settings(
    request: Request, language: Text, lines: Annotated[str, Form()] = ""
) -> Response:
    cleaned = ",".join(x.strip() for x in lines.split(",") if x.strip())[:500]
    try:
        await accounts(request).update(user_of(request).username, language=language, lines=cleaned)
    except UserError as err:
        return page(request, "settings.html", 400, error=str(err))
    return RedirectResponse("/settings?saved=1", status_code=303)


@router.post("/settings/password")
async def change_password(request: Request, password: Text) -> Response:
    try:
        await accounts(request).set_password(user_of(request).username, password)
    except UserError as err:
        return page(request, "settings.html", 400, error=str(err))
    return RedirectResponse("/login", status_code=303)


@router.post("/settings/tokens")
async def new_token(request: Request, label: Text) -> Response:
    token = await accounts(request).new_token(user_of(request).username, label)
    return page(request, "settings.html", token=token)


@router.get("/admin/users")
async def users_page(request: Request) -> Response:
    if not user_of(request).is_admin:
        return page(request, "message.html", 403, message="Forbidden.")
    return page(request, "users.html", users=await accounts(request).list())


@router.post("/admin/users")
async def add_user(
    request: Request,
    username: Text,
    password: Text,
    role: Annotated[str, Form()] = "staff",
    language: Annotated[str, Form()] = "de",
    display_name: Annotated[str, Form()] = "",
) -> Response:
    if not user_of(request).is_admin:
        return page(request, "message.html", 403, message="Forbidden.")
    try:
        await accounts(request).add(
            username, password, role=role, language=language, display_name=display_name
        )
    except UserError as err:
        users: list[dict[str, Any]] = await accounts(request).list()
        return page(request, "users.html", 400, users=users, error=str(err))
    admin = user_of(request).username
    event = AdminActionRecorded(action="user.add", by=admin, target=username, detail=f"role={role}")
    await record(request.app.state.kartei.store, event)
    return RedirectResponse("/admin/users", status_code=303)


def since_days(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
