"""Looking people up through the JSON API's contact search is audited like reading a card:
who searched, when, how long the query was and which contacts it returned (by id), shown
on /audit and by `kartei privacy audit`. Both databases. Lookups in quick succession are
one event (hub/privacy/searches.py): the size of the last query, every contact returned.

The query itself is not kept: it is a name, number or address someone typed, tied to no
subject's key, so the append-only audit trail would keep it after that person is erased.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import sqlalchemy as sa

from hub.contacts import ContactService
from hub.privacy.audit import AUDIT_TYPES, audit_trail
from hub.store.schema import events
from tests.privacy.test_api_reads import _cli_audit
from tests.web.conftest import PASSWORD, Web, client

WANTED = "Abgefragt"
UNKNOWN = "Zwiebelfisch-Oberhuber"  # a person Kartei does not know


async def test_api_searches_are_audited_without_what_was_typed(
    web: Web, admin: tuple[httpx.AsyncClient, str], database_url: str, tmp_path: Path
) -> None:
    contact_id = await ContactService(web.kartei.store).create(
        {"given_name": "Ottilie", "family_name": WANTED, "emails": ("otti@kunde.example",)}
    )
    await web.settle()
    await web.accounts.add("integration", PASSWORD, role="staff")
    token = await web.accounts.new_token("integration", "ERP")
    async with client(web) as api:
        api.headers["authorization"] = f"Bearer {token}"
        found = await api.get("/api/contacts", params={"q": f"ottilie {WANTED.lower()}"})
        assert [c["contact_id"] for c in found.json()] == [contact_id]
        assert (await api.get("/api/contacts", params={"q": UNKNOWN})).json() == []
        assert (await api.get("/api/contacts", params={"q": "  "})).json() == []  # no lookup

    http, _ = admin
    page = (await http.get("/audit")).text  # records the searches of the last seconds
    searched = [
        r.event for r in await audit_trail(web.kartei.store) if r.type_name == "ContactsSearched"
    ]
    assert [(e.by, e.words, e.characters, e.found) for e in searched] == [  # type: ignore[attr-defined]
        ("integration", 1, len(UNKNOWN), (contact_id,)),  # one burst: the last query's size
    ]
    async with web.kartei.store.db.read() as conn:
        stored = (
            await conn.execute(sa.select(events.c.data).where(events.c.type.in_(AUDIT_TYPES)))
        ).scalars()
        kept = " ".join(stored).lower()
    for typed in (WANTED.lower(), UNKNOWN.lower(), "ottilie"):
        assert typed not in kept

    assert page.count("Kontakte gesucht") == 1 and "1 Kontakt gefunden" in page
    assert "Suche mit 22 Zeichen" in page
    # The contact found, by its current name, linked to the card; nothing typed.
    assert f'<a href="/contacts/{contact_id}">Ottilie {WANTED}</a>' in page
    assert UNKNOWN not in page
    said = " ".join((await asyncio.to_thread(_cli_audit, database_url, tmp_path)).split())
    listed = f"Kontakte gesucht: Suche mit 22 Zeichen · 1 Kontakt gefunden: Ottilie {WANTED}"
    assert f"integration {listed}" in said and UNKNOWN not in said, said
