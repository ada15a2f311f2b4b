"""The real web app on the real store (SQLite and PostgreSQL), and logged-in HTTP clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from hub.bootstrap import Kartei, bootstrap, default_projections
from hub.settings import Settings
from hub.store import EventStore
from hub.web.app import create_app
from hub.web.auth import Accounts

PASSWORD = "korrekt-pferd-batterie"
# Cheap argon2 parameters keep the suite fast; production uses argon2-cffi's defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Web:
    kartei: Kartei
    app: FastAPI

    @property
    def accounts(self) -> Accounts:
        return self.app.state.accounts  # type: ignore[no-any-return]

    async def settle(self) -> None:
        """Brings every projection up to the head of the log."""
        for runner in self.kartei.projections.values():
            await runner.catch_up()


def make_settings(tmp_path: Path, **sections: object) -> Settings:
    return Settings(kartei={"data_dir": tmp_path, "language": "de"}, **sections)  # type: ignore[arg-type]


async def make_web(store: EventStore, tmp_path: Path, routers: tuple = ()) -> Web:
    settings = make_settings(tmp_path)
    kartei = bootstrap(
        settings,
        store=store,
        projections=default_projections(settings),
        policies=[],
        adapters=[],
    )
    app = create_app(kartei, routers=routers)
    app.state.accounts.hasher = FAST_HASHER
    kartei.web = None
    for runner in kartei.projections.values():
        await runner.prepare()
    return Web(kartei, app)


@pytest.fixture
async def web(store: EventStore, tmp_path: Path) -> AsyncIterator[Web]:
    app = await make_web(store, tmp_path)
    yield app
    await app.app.state.searches.close()
    await app.app.state.pop.close()


def client(web: Web) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web.app)
    return httpx.AsyncClient(transport=transport, base_url="http://kartei.test")


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Logs in through the form; returns the session's CSRF token."""
    form = await http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = await http.post(
        "/login", data={"username": username, "password": password, "csrf": token.group(1)}
    )
    assert done.status_code == 303, done.text
    home = await http.get("/settings")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert csrf is not None
    return csrf.group(1)


@pytest.fixture
async def admin(web: Web) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client logged in as an admin, and its CSRF token."""
    await web.accounts.add("anna", PASSWORD, role="admin", display_name="Anna Admin")
    async with client(web) as http:
        csrf = await login(http, "anna")
        yield http, csrf
