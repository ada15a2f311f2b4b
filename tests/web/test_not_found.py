"""Error pages: an unknown address, a wrong method and a failing page answer a page in the
app's look and the user's language; /api keeps its JSON answers.

Regression: unknown URLs showed the raw JSON `{"detail":"Not Found"}` in the browser.
"""

from __future__ import annotations

import httpx

from tests.web.conftest import PASSWORD, Web, login

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def browser(web: Web) -> httpx.AsyncClient:
    """A client that gets the 500 page the server sends, as a browser would."""
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://kartei.test", headers=BROWSER)


def is_page(answer: httpx.Response) -> bool:
    """A whole page of the app (header, navigation), not JSON or a bare text."""
    body = answer.text
    html = answer.headers["content-type"].startswith("text/html")
    return html and '<header class="top">' in body and 'href="/tasks"' in body


async def test_unknown_address_in_german_and_english(web: Web) -> None:
    await web.accounts.add("anna", PASSWORD, display_name="Anna")
    await web.accounts.add("bob", PASSWORD, display_name="Bob", language="en")
    async with browser(web) as http:
        await login(http, "anna")
        answer = await http.get("/kontakte/gibt-es-nicht")
        assert answer.status_code == 404
        assert is_page(answer) and "Seite nicht gefunden" in answer.text
        assert '"detail"' not in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        # A wrong method on a page's address: a page too (GET /logout is POST only).
        wrong = await http.get("/logout")
        assert wrong.status_code == 405 and is_page(wrong)
        assert "Diese Aktion ist hier nicht möglich" in wrong.text
        # The JSON API keeps answering JSON, for unknown addresses and its own 404s.
        api = await http.get("/api/gibt-es-nicht")
        assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
        contact = await http.get("/api/contacts/niemand")
        assert contact.status_code == 404 and contact.json() == {"detail": "no such contact"}
        # Query parameters a page cannot read: a page, not FastAPI's validation JSON.
        bad = await http.get("/calls", params={"days": "viele"})
        assert bad.status_code == 400 and is_page(bad)
    async with browser(web) as http:
        await login(http, "bob")
        answer = await http.get("/kontakte/gibt-es-nicht")
        assert answer.status_code == 404
        assert is_page(answer) and "Page not found" in answer.text


async def test_a_failing_page_shows_no_traceback(web: Web) -> None:
    async def broken() -> None:
        raise RuntimeError("secret internals: /srv/kartei/db password=hunter2")

    web.app.add_api_route("/kaputt", broken)
    web.app.add_api_route("/api/kaputt", broken)
    await web.accounts.add("anna", PASSWORD, display_name="Anna")
    async with browser(web) as http:
        await login(http, "anna")
        answer = await http.get("/kaputt")
        assert answer.status_code == 500
        assert is_page(answer) and "Ein Fehler ist aufgetreten" in answer.text
        assert "secret internals" not in answer.text and "Traceback" not in answer.text
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        api = await http.get("/api/kaputt")
        assert api.status_code == 500 and api.json() == {"detail": "Internal Server Error"}


async def test_not_logged_in_still_goes_to_the_login(web: Web) -> None:
    async with browser(web) as http:
        answer = await http.get("/gibt-es-nicht")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/gibt-es-nicht"
