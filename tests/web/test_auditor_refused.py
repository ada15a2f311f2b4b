"""A refused request is answered in the shape that asked: the tax auditor who opens a page
outside the archive, or a form sent without its CSRF token, gets the error page (403) in
their language, with the archive in the navigation; the JSON API keeps its JSON answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from tests.web.conftest import PASSWORD, Web, client, login

PAGE = {"accept": "text/html,application/xhtml+xml"}


async def sign_in(http: httpx.AsyncClient, username: str) -> None:
    form = await http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = await http.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert done.status_code == 303


async def test_an_auditor_refused_a_page_gets_the_page_in_german(web: Web) -> None:
    until = datetime.now(UTC).date() + timedelta(days=30)
    await web.accounts.add("pruefer", PASSWORD, role="auditor", until=until)
    async with client(web) as http:
        await sign_in(http, "pruefer")
        for path in ("/tasks", "/contacts/new", "/search?q=x", "/settings"):
            refused = await http.get(path, headers=PAGE)
            assert refused.status_code == 403, path
            assert refused.headers["content-type"].startswith("text/html"), path
            assert "Kein Zugriff" in refused.text, path
            assert "Ihr Zugang erlaubt diese Seite oder diese Aktion nicht." in refused.text
            assert 'href="/archive"' in refused.text  # the way back to what is theirs
            assert "content-security-policy" in refused.headers
        api = await http.get("/api/contacts", headers=PAGE)
        assert api.status_code == 403
        assert api.json() == {"detail": "auditors read the archive only"}
        script = await http.get("/tasks", headers={"accept": "application/json"})
        assert script.status_code == 403 and script.json()["detail"]


async def test_an_english_auditor_gets_the_page_in_english(web: Web) -> None:
    until = datetime.now(UTC).date() + timedelta(days=30)
    await web.accounts.add("auditor", PASSWORD, role="auditor", until=until, language="en")
    async with client(web) as http:
        await sign_in(http, "auditor")
        refused = await http.get("/calls", headers=PAGE)
        assert refused.status_code == 403
        assert "Access denied" in refused.text and "Kein Zugriff" not in refused.text


async def test_a_form_without_its_csrf_token_gets_the_page_the_api_json(web: Web) -> None:
    await web.accounts.add("anna", PASSWORD)
    async with client(web) as http:
        await login(http, "anna")
        form = await http.post("/tasks", data={"title": "Rückruf"}, headers=PAGE)
        assert form.status_code == 403
        assert "Kein Zugriff" in form.text
        fetch = await http.post("/tasks", data={"title": "Rückruf"})
        assert fetch.status_code == 403
        assert fetch.json() == {"detail": "CSRF token missing or wrong"}


async def test_staff_refused_the_archive_get_the_same_page(web: Web) -> None:
    await web.accounts.add("sam", PASSWORD)
    async with client(web) as http:
        await login(http, "sam")
        refused = await http.get("/archive", headers=PAGE)
        assert refused.status_code == 403 and "Kein Zugriff" in refused.text
        original = await http.get("/archive/1/original/0", headers=PAGE)
        assert original.status_code == 403 and "Kein Zugriff" in original.text
