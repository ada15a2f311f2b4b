"""Logins, sessions, CSRF, lock-out, roles, languages, and the gate on every route."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter

from hub.store import EventStore
from hub.web.app import app_routes
from hub.web.auth import MAX_FAILURES, UserError
from tests.web.conftest import PASSWORD, Web, client, login, make_web

# Routes open without a login: the health check and the login form itself.
OPEN = {("/healthz", "GET"), ("/login", "GET"), ("/login", "POST")}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


async def test_every_route_refuses_requests_without_login(store: EventStore, tmp_path) -> None:
    """Enumerates the app's routes, so a new route cannot slip through unguarded."""
    phone = APIRouter(prefix="/telephony")

    @phone.post("/hook/{token}")
    async def hook(token: str) -> dict[str, str]:
        return {"checked": "by its own token"}

    web = await make_web(store, tmp_path, routers=(phone,))
    checked = 0
    async with client(web) as http:
        for path, methods in app_routes(web.app):
            if path == "/static":
                continue
            for method in methods - {"HEAD"}:
                if (path, method) in OPEN or path.startswith("/telephony/"):
                    continue
                for accept in ("text/html", "application/json"):
                    response = await http.request(
                        method, concrete(path), headers={"accept": accept}
                    )
                    checked += 1
                    assert response.status_code in (401, 303), (method, path)
                    if response.status_code == 303:
                        assert response.headers["location"].startswith("/login")
        # Static files are public but hold no data.
        assert (await http.get("/static/kartei.css")).status_code == 200
        # The phone-system routes are mounted without a login (they check a token).
        assert (await http.post("/telephony/hook/abc")).status_code == 200
        assert (await http.get("/healthz")).status_code in (200, 503)
    assert checked > 40
    await web.app.state.pop.close()


async def test_login_logout_and_session_cookie(web: Web) -> None:
    await web.accounts.add("bernd", PASSWORD)
    async with client(web) as http:
        csrf = await login(http, "bernd")
        cookie = next(c for c in http.cookies.jar if c.name == "kartei_session")
        assert cookie.has_nonstandard_attr("HttpOnly")
        page = await http.get("/")
        assert page.status_code == 200 and "Übersicht" in page.text
        out = await http.post("/logout", data={"csrf": csrf})
        assert out.status_code == 303
        again = await http.get("/", headers={"accept": "text/html"})
        assert again.status_code == 303


async def test_state_changes_need_the_csrf_token(web: Web, admin) -> None:
    http, csrf = admin
    refused = await http.post("/settings", data={"language": "en"})
    assert refused.status_code == 403
    wrong = await http.post("/settings", data={"language": "en", "csrf": "x" * 40})
    assert wrong.status_code == 403
    foreign = await http.post(
        "/settings",
        data={"language": "en", "csrf": csrf},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    ok = await http.post("/settings", data={"language": "en", "csrf": csrf})
    assert ok.status_code == 303
    assert "Dashboard" in (await http.get("/")).text  # English now


async def test_login_form_needs_its_csrf_cookie(web: Web) -> None:
    await web.accounts.add("carla", PASSWORD)
    async with client(web) as http:
        response = await http.post(
            "/login", data={"username": "carla", "password": PASSWORD, "csrf": "guess"}
        )
        assert response.status_code == 403


async def test_lockout_after_repeated_failures(web: Web) -> None:
    await web.accounts.add("dora", PASSWORD)
    async with client(web) as http:
        for _ in range(MAX_FAILURES):
            form = await http.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
            bad = await http.post(
                "/login", data={"username": "dora", "password": "falsch-falsch", "csrf": token}
            )
            assert bad.status_code == 401
        assert await web.accounts.is_locked("dora")
        # Even the right password is refused while locked.
        assert await web.accounts.login("dora", PASSWORD) is None


async def test_staff_cannot_manage_users(web: Web) -> None:
    await web.accounts.add("emil", PASSWORD, role="staff")
    async with client(web) as http:
        csrf = await login(http, "emil")
        assert (await http.get("/admin/users")).status_code == 403
        made = await http.post(
            "/admin/users", data={"username": "x", "password": PASSWORD, "csrf": csrf}
        )
        assert made.status_code == 403


async def test_admin_adds_a_user_who_can_log_in(web: Web, admin) -> None:
    http, csrf = admin
    made = await http.post(
        "/admin/users",
        data={
            "username": "fritz",
            "password": PASSWORD,
            "role": "staff",
            "language": "en",
            "csrf": csrf,
        },
    )
    assert made.status_code == 303
    assert "fritz" in (await http.get("/admin/users")).text
    async with client(web) as other:
        await login(other, "fritz")
        assert "Log out" in (await other.get("/")).text


async def test_api_token_authenticates_without_csrf(web: Web, admin) -> None:
    http, csrf = admin
    page = await http.post("/settings/tokens", data={"label": "ERP", "csrf": csrf})
    token = re.search(r"<code>(kt_[^<]+)</code>", page.text).group(1)  # type: ignore[union-attr]
    async with client(web) as bare:
        assert (await bare.get("/api/tasks")).status_code == 401
        auth = {"authorization": f"Bearer {token}"}
        assert (await bare.get("/api/tasks", headers=auth)).json() == []
        schema = await bare.get("/openapi.json", headers=auth)
        assert "/api/contacts/{contact_id}/timeline" in schema.json()["paths"]
        wrong = {"authorization": "Bearer kt_wrong"}
        assert (await bare.get("/api/tasks", headers=wrong)).status_code == 401


async def test_bad_users_are_refused(web: Web) -> None:
    with pytest.raises(UserError):
        await web.accounts.add("a b", PASSWORD)
    with pytest.raises(UserError):
        await web.accounts.add("kurz", "short")
    await web.accounts.add("gina", PASSWORD)
    with pytest.raises(UserError):
        await web.accounts.add("gina", PASSWORD)


async def test_login_redirect_stays_on_this_site(web: Web) -> None:
    await web.accounts.add("hans", PASSWORD)
    async with client(web) as http:
        form = await http.get("/login?next=//evil.example/")
        assert 'value="/"' in form.text


SAFE_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


async def test_every_response_carries_the_safe_headers(web: Web, admin) -> None:
    http, _ = admin
    async with client(web) as bare:
        responses = [await bare.get("/healthz"), await bare.get("/"), await bare.get("/login")]
    responses.append(await http.get("/"))
    responses.append(await http.post("/settings", data={"language": "en"}))  # refused: CSRF
    for response in responses:
        for name in SAFE_HEADERS:
            assert name in response.headers, (response.url, name)
    assert "script-src 'self'" in responses[-1].headers["content-security-policy"]
    # The screen pop's stream carries them too (tests/web/test_sse.py, over a real socket).
