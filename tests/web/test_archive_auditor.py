"""The tax auditor (GoBD Z1): a time-limited account that reads the archive (every
captured email and fax, its original and its proof) and nothing else; every list, search,
view and download is in the audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from hub.archive import Archive
from hub.events.privacy import AdminActionRecorded
from hub.proofs import heads
from hub.proofs.log import MerkleLog
from hub.web.auth import auditors
from tests.proofs.conftest import capture_mail
from tests.web.conftest import PASSWORD, Web, client, login


async def sign_in(http: httpx.AsyncClient, username: str) -> int:
    """Logs in through the form; the status of the answer."""
    form = await http.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    done = await http.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    return done.status_code


async def test_the_auditor_reads_the_archive_and_nothing_else(web: Web) -> None:
    today = datetime.now(UTC).date()
    await web.accounts.add("pruefer", PASSWORD, role="auditor", until=today + timedelta(days=30))
    store = web.kartei.store
    archive = Archive(web.kartei.settings.data_dir / "archive")
    refs = await capture_mail(store, archive, 3)
    merkle = MerkleLog(store, archive.root)
    await merkle.catch_up()
    await merkle.sign(heads.ensure_key(web.kartei.settings.data_dir))

    async with client(web) as http:
        assert await sign_in(http, "pruefer") == 303
        home = await http.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/archive"
        listing = await http.get("/archive")
        assert listing.status_code == 200
        assert all(f"Angebot {i}" in listing.text for i in range(3))
        assert "Zugang bis" in listing.text and 'href="/contacts/new"' not in listing.text
        found = await http.get("/archive", params={"q": "kunde1@"})
        assert "Angebot 1" in found.text and "Angebot 2" not in found.text
        item = await http.get("/archive/2")
        assert "Enthalten in der signierten Baumwurzel 1 (3 Einträge)" in item.text
        # What was captured, with its sender and subject (a macro of the page frame named
        # like the page's item once left every fact and the heading empty).
        assert "<h1>E-Mail empfangen</h1>" in item.text, item.text
        assert "<dt>Betreff</dt><dd>Angebot 1</dd>" in item.text
        assert re.search(r"<dt>Absender</dt><dd>[^<]*kunde1@", item.text)
        original = await http.get("/archive/2/original/0")
        assert original.status_code == 200 and archive.get(refs[1]) == original.content
        assert original.headers["content-disposition"].startswith("attachment;")

        for path in ("/contacts/new", "/tasks", "/search?q=x", "/settings", "/audit"):
            assert (await http.get(path)).status_code == 403, path
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', listing.text)
        assert csrf is not None
        note = await http.post("/tasks", data={"csrf": csrf.group(1), "title": "x"})
        assert note.status_code == 403
        assert (await http.get("/archive/99")).status_code == 404

    trail = await store.read_all(0, 1000, types=["AdminActionRecorded"])
    done = [(r.event.action, r.event.target) for r in trail if r.event.by == "pruefer"]  # type: ignore[attr-defined]
    assert done == [
        ("archive.list", "page 0"),
        ("archive.search", "kunde1@"),
        ("archive.view", "2"),
        ("archive.download", "2/0"),
    ]
    assert all(isinstance(r.event, AdminActionRecorded) for r in trail)


async def test_the_auditors_access_ends_on_its_last_day(web: Web) -> None:
    today = datetime.now(UTC).date()
    await web.accounts.add("alt", PASSWORD, role="auditor", until=today - timedelta(days=1))
    await web.accounts.add("neu", PASSWORD, role="auditor", until=today)
    async with client(web) as http:
        assert await sign_in(http, "alt") == 401  # the form again, with the error
        assert await sign_in(http, "neu") == 303
        assert (await http.get("/archive")).status_code == 200
        async with web.kartei.store.db.write() as conn:  # the day has passed
            await conn.execute(
                sa.update(auditors)
                .where(auditors.c.username == "neu")
                .values(until=today - timedelta(days=1))
            )
        gone = await http.get("/archive", headers={"accept": "text/html"})
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_staff_do_not_see_the_archive_admins_do(web: Web) -> None:
    await web.accounts.add("sam", PASSWORD)
    await web.accounts.add("ada", PASSWORD, role="admin")
    async with client(web) as http:
        await login(http, "sam")
        assert (await http.get("/archive")).status_code == 403
    async with client(web) as http:
        await login(http, "ada")
        assert (await http.get("/archive")).status_code == 200
    assert await web.accounts.token_user(await web.accounts.new_token("ada", "x")) is not None


async def test_the_archive_pages_say_only_the_catalogues_words(web: Web) -> None:
    """In German and in English: no word of the other language (tests/web/german_text.py)."""
    from tests.web.german_text import foreign

    today = datetime.now(UTC).date()
    store = web.kartei.store
    archive = Archive(web.kartei.settings.data_dir / "archive")
    await capture_mail(store, archive, 2)
    merkle = MerkleLog(store, archive.root)
    await merkle.catch_up()
    head = await merkle.sign(heads.ensure_key(web.kartei.settings.data_dir))
    proof = await merkle.inclusion(1)
    # The firm's data, and the proof's own text (hashes, the signed head's lines).
    data = ["kunde0@example.de", "kunde1@example.de", "Angebot 0", "Angebot 1", "Prüfer",
            ".eml", head.root.hex(), *proof["path"]]  # fmt: skip
    for language in ("de", "en"):
        name = f"pruefer-{language}"
        until = today + timedelta(days=5)
        await web.accounts.add(
            name, PASSWORD, role="auditor", until=until, language=language, display_name="Prüfer"
        )
        async with client(web) as http:
            assert await sign_in(http, name) == 303
            for path in ("/archive", "/archive?q=Angebot", "/archive/1"):
                page = (await http.get(path)).text
                left, count = foreign(page, [*data, until.strftime("%d.%m.%Y")], language)
                assert left == [] and count > 8, (language, path, left)


async def test_the_user_list_names_the_auditor_the_form_cannot_make_one(web: Web, admin) -> None:  # type: ignore[no-untyped-def]
    http, _ = admin
    today = datetime.now(UTC).date()
    await web.accounts.add("pruefer", PASSWORD, role="auditor", until=today)
    users = (await http.get("/admin/users")).text
    assert "<td>Betriebsprüfer</td>" in users
    assert 'value="auditor"' not in users  # an auditor needs a last day: the CLI's --until
