"""A search with control characters (a NUL from a pasted binary, a crafted API call) finds
what its words find instead of failing: SQLite's FTS5 read the NUL as the end of its query
string ("unterminated string") and answered 500. Found by schemathesis
(tests/fuzz/test_api_schema.py with KARTEI_SCHEMA_EXAMPLES=300)."""

from __future__ import annotations

from hub.store import EventStore
from tests.web.conftest import Web
from tests.web.events import email
from tests.web.test_pages import contact


async def test_control_characters_in_a_search_are_word_breaks(
    web: Web,
    store: EventStore,
    admin,  # type: ignore[no-untyped-def]
) -> None:
    http, _ = admin
    await contact(store)
    await email(store, "erika@kunde.example", "Angebot Gartenhaus")
    await web.settle()
    for query in ("Erika\x00", "Eri\x00ka", "\x00\x1a", "Muster\x00 GmbH\x12", "Gartenhaus\x00"):
        api = await http.get("/api/contacts", params={"q": query})
        assert api.status_code == 200, (query, api.status_code)
        page = await http.get("/search", params={"q": query})
        assert page.status_code == 200, (query, page.status_code)
    found = await http.get("/api/contacts", params={"q": "Muster\x00 GmbH\x12"})
    assert [c["display_name"] for c in found.json()] == ["Erika Muster"]
    page = await http.get("/search", params={"q": "Gartenhaus\x00"})
    assert "Angebot Gartenhaus" in page.text
