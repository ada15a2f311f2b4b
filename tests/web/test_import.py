"""Contact import over HTTP: preview writes nothing, import writes and reports by line,
admins only, size limit, CSRF; the importer is the one `kartei import` uses."""

from __future__ import annotations

import re

import httpx

from hub.bootstrap import contact_importer
from hub.store import EventStore
from hub.web import pages_import
from tests.web.conftest import PASSWORD, Web, client, login

CSV = (
    "Vorname;Nachname;Firma;E-Mail-Adresse;Telefon geschäftlich;Ort geschäftlich\r\n"
    "Erika;Muster;Muster GmbH;erika@kunde.example;030 123456;Berlin\r\n"
    ";;;;;Berlin\r\n"
    "Hans;Kühn;Dachdecker Kühn;hans@kuehn.example;0171 2345678;Potsdam\r\n"
).encode("cp1252")


def wire(web: Web) -> None:
    web.app.state.importer = contact_importer(web.kartei.settings)


async def upload(
    http: httpx.AsyncClient, csrf: str, body: bytes, name: str = "liste.csv", **fields: str
) -> httpx.Response:
    files = {"file": (name, body, "text/csv")}
    return await http.post("/import", params={"csrf": csrf}, files=files, data=fields)


def count(html: str, action: str) -> int:
    found = re.search(rf'class="n-{action}">([0-9.]+)<', html)
    assert found is not None, action
    return int(found.group(1).replace(".", ""))


async def test_preview_then_import(web: Web, store: EventStore, admin) -> None:
    wire(web)
    http, csrf = admin
    form = await http.get("/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    preview = await upload(http, csrf, CSV, preview="1")
    assert preview.status_code == 200, preview.text
    assert 'data-dry-run="yes"' in preview.text
    assert count(preview.text, "create") == 2 and count(preview.text, "error") == 1
    assert 'class="row-error" data-line="3"' in preview.text
    assert await store.read_all(0, 100, types=("ContactCreated",)) == []
    done = await upload(http, csrf, CSV, on_duplicate="report")
    assert 'data-dry-run="no"' in done.text
    assert count(done.text, "create") == 2
    created = await store.read_all(0, 100, types=("ContactCreated",))
    assert len(created) == 2 and all(r.metadata.actor == "anna" for r in created)
    await web.settle()
    found = await http.get("/search", params={"q": "kühn"})
    assert "Dachdecker Kühn" in found.text
    again = await upload(http, csrf, CSV)
    assert count(again.text, "unchanged") == 2 and count(again.text, "create") == 0
    assert len(await store.read_all(0, 100, types=("ContactCreated",))) == 2


async def test_bad_files_are_refused_with_a_reason(web: Web, store: EventStore, admin) -> None:
    wire(web)
    http, csrf = admin
    empty = await upload(http, csrf, b"")
    assert empty.status_code == 400 and "Die Datei ist leer." in empty.text
    broken = await upload(http, csrf, b"PK\x03\x04not really a workbook", name="x.xlsx")
    assert broken.status_code == 400 and "kann nicht gelesen werden" in broken.text
    large = await upload(http, csrf, b"a;b\r\n" * (pages_import.MAX_UPLOAD_BYTES // 5 + 1))
    assert large.status_code == 413 and "zu groß" in large.text
    # The stranger's file name is shown escaped and never used as a path.
    odd = await upload(http, csrf, CSV, name="../../<b>x</b>.csv", preview="1")
    assert odd.status_code == 200 and "&lt;b&gt;x&lt;/b&gt;" in odd.text
    assert await store.read_all(0, 100, types=("ContactCreated",)) == []


async def test_only_admins_import_and_csrf_is_checked(web: Web, store: EventStore) -> None:
    wire(web)
    await web.accounts.add("sam", PASSWORD)  # staff
    async with client(web) as http:
        csrf = await login(http, "sam")
        assert (await http.get("/import")).status_code == 403
        assert (await upload(http, csrf, CSV)).status_code == 403
    await web.accounts.add("ada", PASSWORD, role="admin")
    async with client(web) as http:
        await login(http, "ada")
        refused = await http.post("/import", files={"file": ("l.csv", CSV, "text/csv")})
        assert refused.status_code == 403
    assert await store.read_all(0, 100, types=("ContactCreated",)) == []


async def test_without_an_importer_the_page_says_so(web: Web, admin) -> None:
    http, csrf = admin
    refused = await upload(http, csrf, CSV)
    assert refused.status_code == 503 and "nicht verfügbar" in refused.text
