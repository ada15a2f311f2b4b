"""While the database is away (a PostgreSQL restart), each request answers 503 with one
WARNING line in the log, not "Exception in ASGI application" with a traceback: the soak
run (bench/soak.py, issue 16) logged a traceback per request during a restart, most from
the security gate's session lookup. A bug still logs its traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hub.web.server import WebServer
from tests.hub.test_cli import free_port
from tests.web.conftest import PASSWORD, Web, login


async def outage() -> None:
    """A real connection attempt to a PostgreSQL that is not there (restarting)."""
    engine = create_async_engine(f"postgresql+psycopg://kartei@127.0.0.1:{free_port()}/k")
    try:
        async with engine.connect():
            pass
    finally:
        await engine.dispose()


async def broken() -> None:
    raise ValueError("a bug of ours")


@pytest.fixture
async def served(web: Web) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real uvicorn, which is what logs an application's exceptions."""
    web.app.add_api_route("/api/outage", outage)
    web.app.add_api_route("/broken", broken)
    await web.accounts.add("anna", PASSWORD)
    server = WebServer(web.app, "127.0.0.1", 0)
    task = asyncio.create_task(server.run())
    await asyncio.wait_for(server.ready.wait(), 10)
    try:
        base = f"http://127.0.0.1:{server.bound_port}"
        async with httpx.AsyncClient(base_url=base) as http:
            yield http
    finally:
        assert server._server is not None
        server._server.should_exit = True  # uvicorn's own shutdown closes its sockets
        await asyncio.wait_for(task, 10)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_database_away_is_one_warning_a_bug_a_traceback(
    web: Web, served: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    http = served
    await login(http, "anna")
    # uvicorn's loggers do not propagate to the root: listen on them directly.
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        caplog.clear()
        answer = await http.get("/api/outage")  # a route's query
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
        web.accounts.session_user = lambda cookie: outage()  # type: ignore[method-assign,assignment,misc]
        page = await http.get("/calls", headers={"accept": "text/html"})  # the gate's lookup
        assert page.status_code == 503 and "Vorübergehend nicht erreichbar" in page.text
        assert page.headers["content-security-policy"]
        warnings = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
        assert tracebacks(caplog) == []
        assert all("\n" not in r.getMessage() for r in warnings)
        del web.accounts.session_user
        assert (await http.get("/broken")).status_code == 500
        assert any(r.exc_info and "a bug of ours" in str(r.exc_info[1]) for r in tracebacks(caplog))
    finally:
        uvicorn_log.removeHandler(caplog.handler)
