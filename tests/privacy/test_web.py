"""Privacy in the web app (issue 15, items 1, 2, 4): admins erase, export and read the
audit trail; staff get 403; card views are recorded, at most once per few minutes."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from hub.contacts import ContactError, ContactService
from hub.events.mail import EmailReceived
from hub.privacy.audit import audit_trail
from hub.store import NO_STREAM
from tests.web.conftest import PASSWORD, Web, client, login


async def _person(web: Web) -> str:
    contact_id = await ContactService(web.kartei.store).create(
        {"given_name": "Ottilie", "family_name": "Vergessen", "emails": ("otti@kunde.example",)}
    )
    await web.settle()
    return contact_id


async def test_staff_views_are_audited_and_privacy_is_for_admins(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    contact_id = await _person(web)
    await web.accounts.add("bernd", PASSWORD, role="staff")
    async with client(web) as staff:
        csrf = await login(staff, "bernd")
        card = await staff.get(f"/contacts/{contact_id}")
        assert card.status_code == 200 and "Vergessen" in card.text
        assert "/erase" not in card.text  # the privacy actions are not offered
        assert (await staff.get(f"/contacts/{contact_id}")).status_code == 200  # again
        assert (await staff.get("/audit")).status_code == 403
        assert (await staff.get(f"/contacts/{contact_id}/export")).status_code == 403
        erase = {"csrf": csrf, "confirm": contact_id}
        assert (await staff.post(f"/contacts/{contact_id}/erase", data=erase)).status_code == 403
    trail = await audit_trail(web.kartei.store)
    assert [(r.type_name, r.event.by) for r in trail] == [("CardViewed", "bernd")]  # type: ignore[attr-defined]

    http, csrf = admin
    page = await http.get("/audit")
    assert page.status_code == 200 and "Karte angesehen" in page.text and "bernd" in page.text


async def test_admin_exports_and_erases_from_the_card(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    contact_id = await _person(web)
    http, csrf = admin
    card = await http.get(f"/contacts/{contact_id}")
    assert "Datenschutz" in card.text and f"/contacts/{contact_id}/erase" in card.text
    download = await http.get(f"/contacts/{contact_id}/export")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert orjson.loads(zf.read("data.json"))["contact"]["family_name"] == "Vergessen"
        assert "Vergessen" in zf.read("summary.html").decode()

    unconfirmed = await http.post(f"/contacts/{contact_id}/erase", data={"csrf": csrf})
    assert unconfirmed.status_code == 400
    done = await http.post(
        f"/contacts/{contact_id}/erase",
        data={"csrf": csrf, "confirm": contact_id, "reason": "Antrag per Brief"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/audit"
    assert (await http.get(f"/contacts/{contact_id}")).status_code == 404
    again = await http.post(
        f"/contacts/{contact_id}/erase", data={"csrf": csrf, "confirm": contact_id}
    )
    assert again.status_code == 409 and f"Kontakt {contact_id} ist bereits gelöscht" in again.text
    nobody = await http.get("/contacts/niemand/export")
    assert nobody.status_code == 404 and "kein Kontakt" in nobody.text
    with pytest.raises(ContactError, match="erased"):
        await ContactService(web.kartei.store).change(contact_id, {"given_name": "Neu"})
    found = await http.get("/contacts", params={"q": "Vergessen"})
    assert "Ottilie" not in found.text

    added = await http.post(
        "/admin/users", data={"csrf": csrf, "username": "carla", "password": PASSWORD}
    )
    assert added.status_code == 303
    page = await http.get("/audit")
    said_on_page = ("Kontakt gelöscht", "Antrag per Brief", "Daten exportiert", "Benutzer angelegt")
    for said in (*said_on_page, "carla"):
        assert said in page.text
    assert "Ottilie" not in page.text and "Vergessen" not in page.text


async def test_a_retention_hold_needs_a_justification(
    web: Web, admin: tuple[httpx.AsyncClient, str]
) -> None:
    contact_id = await _person(web)
    letter = EmailReceived(
        sender="otti@kunde.example", subject="Auftrag", date=datetime.now(UTC), raw_ref=""
    )
    await web.kartei.store.append("email-hold", NO_STREAM, [letter])
    await web.settle()
    http, csrf = admin
    form = {"csrf": csrf, "confirm": contact_id, "reason": "Antrag"}
    held = await http.post(f"/contacts/{contact_id}/erase", data=form)
    assert (
        held.status_code == 409 and "Geschäftsbriefe" in held.text and "Rechnungen" not in held.text
    )
    assert (await http.get(f"/contacts/{contact_id}")).status_code == 200  # nothing erased
    form["justification"] = "Kopie in Papierform archiviert"
    assert (await http.post(f"/contacts/{contact_id}/erase", data=form)).status_code == 303
    page = await http.get("/audit")
    assert "Aufbewahrungspflicht übergangen" in page.text and "Papierform" in page.text
