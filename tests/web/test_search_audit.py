"""The search page and the navigation's suggestions are audited like the JSON API's search:
who looked people up, how long the query was and whom it showed, never what was typed.
Typing is one event, not one per keystroke. /audit names each contact by its current
name, linked to the card, and an erased one as "gelöschter Kontakt". Both databases.
"""

from __future__ import annotations

import asyncio

import httpx

from hub.contacts import ContactService
from hub.privacy.audit import audit_trail
from hub.privacy.searches import ContactSearches
from tests.web.conftest import PASSWORD, Web, client, login


async def _people(web: Web) -> tuple[str, str]:
    service = ContactService(web.kartei.store)
    ottilie = await service.create({"given_name": "Ottilie", "family_name": "Suchbar"})
    otto = await service.create({"given_name": "Otto", "family_name": "Nebenbei"})
    await web.settle()
    return ottilie, otto


async def _searches(web: Web) -> list[tuple[str, int, int, tuple[str, ...]]]:
    trail = await audit_trail(web.kartei.store)
    return [
        (e.by, e.words, e.characters, e.found)  # type: ignore[attr-defined]
        for e in (r.event for r in trail if r.type_name == "ContactsSearched")
    ]


async def test_typing_in_the_nav_search_is_one_audit_event(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    ottilie, otto = await _people(web)
    await web.accounts.add("berta", PASSWORD, role="staff")
    async with client(web) as staff:
        await login(staff, "berta")
        for typed in ("Ot", "Ott", "Otti", "Ottil", "Ottili", "Ottilie"):  # per keystroke
            shown = (await staff.get("/search/suggest", params={"q": typed})).json()
            assert shown
        page = await staff.get("/search", params={"q": "Ottilie"})  # then Enter
        assert "Suchbar" in page.text

    http, _ = admin
    audit = (await http.get("/audit")).text
    assert await _searches(web) == [("berta", 1, len("Ottilie"), (ottilie, otto))]
    assert audit.count("Kontakte gesucht") == 1
    assert "Suche mit 7 Zeichen" in audit and "2 Kontakte gefunden" in audit
    assert f'<a href="/contacts/{ottilie}">Ottilie Suchbar</a>' in audit
    assert f'<a href="/contacts/{otto}">Otto Nebenbei</a>' in audit


async def test_searches_after_a_pause_are_a_new_event(web: Web) -> None:
    ottilie, otto = await _people(web)
    now = [1000.0]
    web.app.state.searches = ContactSearches(web.kartei.store, clock=lambda: now[0])
    await web.accounts.add("berta", PASSWORD, role="staff")
    async with client(web) as staff:
        await login(staff, "berta")
        first = await staff.get("/search", params={"q": "Otto"})
        assert first.status_code == 200, first.text
        now[0] += 60  # a minute later
        await staff.get("/search", params={"q": "Ottilie Suchbar"})
        assert await _searches(web) == [("berta", 1, 4, (otto,))]  # the first, recorded
    await web.app.state.searches.close()
    assert await _searches(web) == [
        ("berta", 2, len("Ottilie Suchbar"), (ottilie,)),
        ("berta", 1, 4, (otto,)),
    ]


async def test_a_burst_is_recorded_once_the_user_pauses(web: Web) -> None:
    ottilie, _ = await _people(web)
    web.app.state.searches = ContactSearches(web.kartei.store, quiet=0.01)
    await web.accounts.add("berta", PASSWORD, role="staff")
    head = await web.kartei.store.head()
    async with client(web) as staff:
        await login(staff, "berta")
        await staff.get("/search/suggest", params={"q": "Ottilie"})
    async with asyncio.timeout(30):  # no page read it: the process records it by itself
        async for batch in web.kartei.store.subscribe(head, types=("ContactsSearched",)):
            if batch:
                break
    assert await _searches(web) == [("berta", 1, 7, (ottilie,))]


async def test_the_audit_names_contacts_and_never_an_erased_name(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    kept, gone = await _people(web)
    http, csrf = admin
    for contact_id in (kept, gone):
        assert (await http.get(f"/contacts/{contact_id}")).status_code == 200
    await http.get("/search", params={"q": "Ot"})
    erased = await http.post(
        f"/contacts/{gone}/erase", data={"csrf": csrf, "confirm": gone, "reason": "Antrag"}
    )
    assert erased.status_code == 303
    audit = (await http.get("/audit")).text
    assert audit.count(f'<a href="/contacts/{kept}">Ottilie Suchbar</a>') == 2  # viewed, found
    assert audit.count("gelöschter Kontakt") == 3  # viewed, found, erased
    assert "Otto" not in audit and "Nebenbei" not in audit
    assert f"Kontakt {gone}" not in audit
