"""Unknown fax senders: listed like unknown email senders, then a contact created or assigned."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.archive import Archive
from hub.events import NewEvent
from hub.events.fax import FaxReceived
from hub.events.mail import CommunicationLinked
from hub.projection import ProjectionRunner
from hub.store import EventStore
from projections.mail import MailIndex
from tests.contacts.conftest import Directory, phone
from tests.web.conftest import PASSWORD, Web, client, login, make_web
from tests.web.events import email

UNKNOWN = "+4940111222"


async def fax(
    store: EventStore, sender: str | None, subject: str = "Fax", document_ref: str = ""
) -> str:
    stream = f"fax-{uuid.uuid4().hex[:32]}"
    event = FaxReceived(
        sender=sender, sender_raw=sender or "Station 7", subject=subject, pages=1,
        document_ref=document_ref, document_type="application/pdf", document_name="fax.pdf",
    )  # fmt: skip
    await store.append(stream, 0, [NewEvent(event)])
    return stream


async def test_unknown_fax_senders_read_model(store: EventStore, contacts: Directory) -> None:
    await contacts.service.create(
        {"kind": "company", "company": "Bäckerei Müller GmbH",
         "phones": (phone("0221 9876-0", "switchboard"),)}
    )  # fmt: skip
    await contacts.service.create(
        {"family_name": "Meier", "phones": (phone("+49 89 1234560", "fax"),)}
    )
    first = await fax(store, UNKNOWN, "Bestellung")
    await fax(store, UNKNOWN, "Reklamation")
    await fax(store, "+4922198765", "Durchwahl der Bäckerei")  # the switchboard's extension
    await fax(store, "+49891234560")  # Meier's fax number
    await fax(store, None)  # no number could be read: nothing to create a contact from
    await email(store, "neu@kunde.example", "Anfrage")
    mail = MailIndex()
    runner = ProjectionRunner(store, mail)
    await runner.prepare()
    await runner.catch_up()
    await contacts.sync()
    async with store.db.read() as conn:
        [unknown] = await mail.unknown_fax_senders(conn, contacts.identity)
        [by_mail] = await mail.unknown_senders(conn, contacts.identity)
    assert (unknown.address, unknown.messages, unknown.kind) == (UNKNOWN, 2, "fax")
    assert unknown.last_subject == "Reklamation" and unknown.name == UNKNOWN
    assert (by_mail.address, by_mail.kind) == ("neu@kunde.example", "email")

    link = CommunicationLinked(message_stream=first, contact_id="x")
    await store.append(first, None, [NewEvent(link)])
    await runner.catch_up()
    async with store.db.read() as conn:
        [unknown] = await mail.unknown_fax_senders(conn, contacts.identity)
        assert unknown.messages == 1
        assert first not in await mail.unassigned_from(conn, UNKNOWN, "fax")
    await contacts.service.create({"company": "Neu KG", "phones": (phone("040 111222"),)})
    await contacts.sync()
    async with store.db.read() as conn:
        assert await mail.unknown_fax_senders(conn, contacts.identity) == []


@pytest.fixture
async def web_admin(store: EventStore, tmp_path) -> AsyncIterator[tuple[Web, object, str]]:
    web = await make_web(store, tmp_path)
    await web.accounts.add("anna", PASSWORD, role="admin", display_name="Anna Admin")
    async with client(web) as http:
        yield web, http, await login(http, "anna")
    await web.app.state.pop.close()


async def test_unknown_senders_page_creates_and_assigns(
    store: EventStore, web_admin, tmp_path: Path
) -> None:
    web, http, csrf = web_admin
    document = b"%PDF-1.4 a fax"
    ref = Archive(tmp_path / "archive").put(document)  # the app's data_dir is tmp_path
    await fax(store, UNKNOWN, "Bestellung <b>42</b>")
    await fax(store, UNKNOWN, "Reklamation", ref)
    await fax(store, "+4930999888", "Anfrage")
    await email(store, "neu@kunde.example", "Angebot")
    await web.settle()
    page = await http.get("/senders/unknown")
    assert (
        page.status_code == 200
        and "<h2>Faxe</h2>" in page.text
        and "Unbekannte Absender" in page.text
    )
    assert "/contacts/new?phone=%2B4940111222" in page.text
    assert "/contacts/new?email=neu%40kunde.example" in page.text
    assert "Reklamation" in page.text and "<b>42" not in page.text  # escaped
    stream = re.search(r'href="/faxes/(fax-[0-9a-f]+)/document" download>Reklamation', page.text)
    assert stream is not None  # the last fax, to look at before deciding
    assert (await http.get(f"/faxes/{stream[1]}/document")).content == document

    nobody = await http.post(
        "/senders/assign",
        data={"kind": "fax", "sender": UNKNOWN, "contact": "Niemand", "csrf": csrf},
    )
    assert nobody.status_code == 400
    created = await http.post(
        "/contacts", data={"company": "Kunde Nord", "phones": "+4930999888", "csrf": csrf}
    )
    assert created.status_code == 303
    target = await http.post(
        "/contacts", data={"company": "Hansa Handel", "phones": "030 123", "csrf": csrf}
    )
    contact_id = target.headers["location"].rsplit("/", 1)[-1]
    await web.settle()  # the directory finds "Hansa" (no running projections in this app)
    assigned = await http.post(
        "/senders/assign", data={"kind": "fax", "sender": UNKNOWN, "contact": "Hansa", "csrf": csrf}
    )
    assert assigned.status_code == 303 and assigned.headers["location"] == f"/contacts/{contact_id}"
    await web.settle()
    page = await http.get("/senders/unknown")
    fax_table = re.search(r'<table class="unknown-fax">.*?</table>', page.text, re.S)
    assert fax_table is None  # one created from its number, one assigned: no unknown faxes
    assert "neu@kunde.example" in page.text
    links = [
        r.event for r in await store.read_all(0, 100) if isinstance(r.event, CommunicationLinked)
    ]
    assert len(links) == 2 and {link.contact_id for link in links} == {contact_id}
    assert all(link.by == "anna" for link in links)
    card = await http.get(f"/contacts/{contact_id}")  # the timeline follows the links
    assert "Reklamation" in card.text and 'class="fax-document"' in card.text
    assert "Bestellung &lt;b&gt;42&lt;/b&gt;" in card.text
