"""What the demo does over HTTP, as a browser and a phone provider would: log in, fill in
forms, read the JSON API, push sipgate webhooks. Blocking (the standard library's urllib):
the seeding runs these calls in a worker thread, never on Kartei's event loop."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

Fields = Mapping[str, str | Sequence[str]]
TIMEOUT = 30.0
_LOGIN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SESSION_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class LoginFailedError(RuntimeError):
    """The web app did not let the demo user in."""


class Browser:
    """One staff member's session on Kartei's web app (cookies, CSRF token)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._opener = build_opener(HTTPCookieProcessor(CookieJar()))
        self.csrf = ""

    def login(self, username: str, password: str) -> None:
        form = _LOGIN_CSRF.search(self.get("/login"))
        fields = {"username": username, "password": password, "next": "/"}
        page = self.post("/login", {**fields, "csrf": form[1] if form else ""})
        token = _SESSION_CSRF.search(page)
        if token is None or not token[1]:
            raise LoginFailedError(f"{username} could not log in to {self.base_url}")
        self.csrf = token[1]

    def get(self, path: str) -> str:
        return self._open(Request(self.base_url + path))

    def get_json(self, path: str) -> Any:
        request = Request(self.base_url + path, headers={"Accept": "application/json"})
        return json.loads(self._open(request))

    def post(self, path: str, fields: Fields) -> str:
        """Submits a form, as the page's own form would (CSRF token included once logged in)."""
        form = dict(fields)
        if self.csrf:
            form.setdefault("csrf", self.csrf)
        body = urlencode(form, doseq=True)
        request = Request(
            self.base_url + path,
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return self._open(request)

    def _open(self, request: Request) -> str:
        with self._opener.open(request, timeout=TIMEOUT) as response:
            return str(response.read().decode("utf-8"))
