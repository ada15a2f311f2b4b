"""While the database restarts (or is down), a request is answered 503 with Retry-After,
a page in the user's language and the API in JSON, not 500 "an error occurred": the
user's next try works. Found by bench/soak.py, which restarts PostgreSQL under load."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from tests.hub.test_cli import free_port
from tests.web.conftest import PASSWORD, Web, login


async def test_an_unreachable_database_is_a_503_not_a_500(web: Web) -> None:
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

    web.app.add_api_route("/api/outage", outage)
    web.app.add_api_route("/outage", outage)
    web.app.add_api_route("/broken", broken)
    await web.accounts.add("anna", PASSWORD)
    # Starlette raises the exception on after answering (for the log): keep the answer.
    transport = httpx.ASGITransport(app=web.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kartei.test") as http:
        await login(http, "anna")
        api = await http.get("/api/outage")
        assert api.status_code == 503 and api.headers["retry-after"] == "5"
        assert api.json() == {"detail": "Database unavailable"}
        page = await http.get("/outage", headers={"accept": "text/html"})
        assert page.status_code == 503 and page.headers["retry-after"] == "5"
        assert "Vorübergehend nicht erreichbar" in page.text
        assert "Datenbank ist gerade nicht erreichbar" in page.text
        # A bug stays a 500: only a lost database is a reason to try again.
        assert (await http.get("/broken", headers={"accept": "text/html"})).status_code == 500
