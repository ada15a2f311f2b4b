"""The contact card's faxes, email threads and attachments, message search, and erasure:
the real app over HTTP on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import orjson
import sqlalchemy as sa

from hub.archive import Archive
from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.classification import MessageClassified
from hub.events.contacts import Phone
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.mail import Attachment, EmailReceived, EmailSent
from hub.events.notes import NoteAdded
from hub.store import EventStore
from hub.web import data
from tests.web.conftest import Web, client
from tests.web.events import T0, email

FAX_NUMBER = "+4930555666"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the preview route only checks the signature
PDF = b"%PDF-1.4\n% Lieferschein\n"


async def customer(store: EventStore) -> str:
    return await ContactService(store).create(
        {
            "given_name": "Jörg",
            "family_name": "Müller",
            "emails": ("joerg@mueller.example",),
            "phones": (Phone(number=FAX_NUMBER),),
        }
    )


def archive_of(web: Web) -> Archive:
    return Archive(web.kartei.settings.data_dir / "archive")


async def fax(web: Web, store: EventStore, *, pending: bool = False) -> tuple[str, int]:
    archive = archive_of(web)
    event = FaxReceived(
        sender=FAX_NUMBER,
        sender_raw="030 555666",
        receiver="+4930100100",
        pages=3,
        received_at=T0 + timedelta(minutes=5),
        subject="Fax von 030 555666",
        document_name="Bestellung Müller.pdf",
        document_type="application/pdf",
        document_size=len(PDF),
        document_ref=archive.put(PDF),
        preview_ref=archive.put(PNG),
        text="" if pending else "Bestellung: 20 Dachziegel, Lieferung Straße 5",
        text_source="" if pending else "ocr",
        ocr_status="pending" if pending else "done",
    )
    stream = f"fax-{'1' * 32}"
    done = await store.append(stream, 0, [NewEvent(event)])
    return stream, done.positions[-1]


async def classify(store: EventStore, stream: str, position: int, label: str) -> None:
    event = MessageClassified(
        message_position=position,
        message_stream=stream,
        message_type="FaxReceived",
        label=label,
        confidence=0.9,
        model="m",
        model_version="1",
    )
    await store.append(f"classification-{position}", 0, [NewEvent(event)])


async def test_fax_on_the_card_with_preview_text_and_document(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await customer(store)
    stream, position = await fax(web, store, pending=True)
    await classify(store, stream, position, "complaint")
    await web.settle()
    card = (await http.get(f"/contacts/{cid}")).text
    assert f'src="/faxes/{stream}/preview"' in card
    assert "3 Seiten" in card and "Beschwerde" in card
    assert "Texterkennung läuft noch" in card and "Erkannter Text" not in card
    assert f'href="/faxes/{stream}/document"' in card
    # OCR succeeds on a later try: the text joins the entry, collapsed.
    recognized = FaxTextRecognized(fax_stream=stream, sender=FAX_NUMBER, text="20 Dachziegel")
    await store.append(stream, None, [NewEvent(recognized)])
    await web.settle()
    card = (await http.get(f"/contacts/{cid}?kind=fax")).text
    assert re.search(r"<details class=\"fax-text\">.*20 Dachziegel", card, re.S)
    preview = await http.get(f"/faxes/{stream}/preview")
    assert preview.status_code == 200 and preview.content == PNG
    assert preview.headers["content-type"] == "image/png"
    document = await http.get(f"/faxes/{stream}/document")
    assert document.status_code == 200 and document.content == PDF
    assert 'filename="Bestellung M_ller.pdf"' in document.headers["content-disposition"]
    assert (await http.get("/faxes/fax-0123/preview")).status_code == 404
    assert (await http.get("/faxes/../etc/preview")).status_code == 404
    async with client(web) as anonymous:  # files only for logged-in staff
        refused = await anonymous.get(f"/faxes/{stream}/document")
        assert refused.status_code in (303, 401) and refused.content != PDF


async def thread_of_three(store: EventStore) -> list[str]:
    root = "<anfrage@mueller.example>"
    first = EmailReceived(
        message_id=root,
        sender="joerg@mueller.example",
        to=("info@firma.example",),
        subject="Anfrage Dachrinne",
        text="Was kostet eine neue Dachrinne?",
        date=T0,
    )
    answer = EmailSent(
        message_id="<angebot@firma.example>",
        sender="info@firma.example",
        to=("joerg@mueller.example",),
        subject="Re: Anfrage Dachrinne",
        text="Unser Angebot anbei.",
        in_reply_to=root,
        references=(root,),
        attachments=(
            Attachment(name="Angebot 4711.pdf", content_type="application/pdf", size=2048, ref=""),
        ),
        date=T0 + timedelta(hours=1),
    )
    # A reply that names only its parent (no References) still joins the thread.
    again = EmailReceived(
        message_id="<zusage@mueller.example>",
        sender="joerg@mueller.example",
        to=("info@firma.example",),
        subject="Re: Re: Anfrage Dachrinne",
        text="Passt, bitte ausführen.",
        in_reply_to="<angebot@firma.example>",
        date=T0 + timedelta(hours=2),
    )
    streams = []
    for n, event in enumerate((first, answer, again)):
        await store.append(f"email-thread{n}", 0, [NewEvent(event)])
        streams.append(f"email-thread{n}")
    return streams


async def test_email_thread_grouped_on_card_and_shown_on_message(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await customer(store)
    streams = await thread_of_three(store)
    await email(store, "joerg@mueller.example", "Andere Sache", minutes=600)
    await web.settle()
    card = await data.card(web.kartei, cid)
    assert card is not None
    heads = [
        (e.data["subject"], [r.data["subject"] for r in replies]) for e, replies in card.groups
    ]
    assert heads == [
        ("Andere Sache", []),
        ("Re: Re: Anfrage Dachrinne", ["Re: Anfrage Dachrinne", "Anfrage Dachrinne"]),
    ]
    assert sorted(card.thread_sizes.values()) == [1, 3]
    page = (await http.get(f"/contacts/{cid}")).text
    assert "Verlauf: 3" in page and 'class="entries thread"' in page
    view = (await http.get(f"/messages/{streams[1]}")).text
    thread = view.split('id="thread"', 1)[1]
    order = [thread.index(s) for s in ("Anfrage Dachrinne<", "Re: Anfrage", "Re: Re: Anfrage")]
    assert order == sorted(order)  # oldest first
    # Directions clear: an arrow icon and the word for each message.
    assert thread.count("#arrow-right") == 1 and thread.count("#arrow-left") == 2
    assert thread.count(">ausgehend<") == 1 and thread.count(">eingehend<") == 2
    assert "ausgehend" in view.split('id="thread"', 1)[0]  # this one was sent by the firm


async def test_attachments_listed_on_the_card(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await customer(store)
    body = b"Rechnung 2026-17" * 100
    attachment = Attachment(
        name="Rechnung <2026>.pdf",
        content_type="application/pdf",
        size=len(body),
        ref=archive_of(web).put(body),
    )
    event = EmailReceived(
        message_id="<rechnung@mueller.example>",
        sender="joerg@mueller.example",
        subject="Rechnung",
        attachments=(attachment,),
        date=T0,
    )
    await store.append("email-rechnung", 0, [NewEvent(event)])
    await web.settle()
    card = (await http.get(f"/contacts/{cid}")).text
    link = re.search(r'<a href="(/messages/email-rechnung/attachments/0)"[^>]*>([^<]*)</a>', card)
    assert link is not None and "Rechnung &lt;2026&gt;.pdf" in link.group(2)
    assert "2 kB" in card
    message = (await http.get("/messages/email-rechnung")).text
    assert 'Rechnung &lt;2026&gt;.pdf</a> <span class="muted">2 kB</span>' in message
    download = await http.get(link.group(1))
    assert download.status_code == 200 and download.content == body
    api = (await http.get(f"/api/contacts/{cid}/timeline")).json()
    assert api[0]["data"]["attachments"] == [
        {"name": "Rechnung <2026>.pdf", "type": "application/pdf", "size": len(body)}
    ]  # no archive reference leaks into the API


async def test_message_search_full_text_with_umlauts(
    web: Web, store: EventStore, admin, backend: str
) -> None:
    http, _ = admin
    cid = await customer(store)
    await email(store, "a@x.example", "Schaden am Gebäude", text="Die Regenrinne ist undicht.")
    await email(store, "b@x.example", "Grüße aus Köln", text="Termin in der Poststraße", minutes=1)
    await email(store, "c@x.example", "Aktion", text="100% Rabatt auf_alles", minutes=2)
    await fax(web, store)
    note = NoteAdded(note_id="n1", contact_id=cid, text="Kunde wünscht Rückruf", by="anna")
    await store.append(f"contact-{cid}", None, [NewEvent(note)])
    await web.settle()

    async def subjects(query: str) -> list[str]:
        found = await data.search(web.kartei, query)
        return [e.data.get("subject") or e.data.get("text") for e in found["entries"]]

    assert await subjects("gebäude") == ["Schaden am Gebäude"]
    assert await subjects("GEBAEUDE") == ["Schaden am Gebäude"]  # ASCII spelling of ä
    assert await subjects("regenrinne undicht") == ["Schaden am Gebäude"]  # body text
    assert await subjects("poststrasse") == ["Grüße aus Köln"]
    assert await subjects("Koeln") == ["Grüße aus Köln"]
    assert await subjects("dachziegel") == ["Fax von 030 555666"]  # fax OCR text
    assert await subjects("rückruf") == ["Kunde wünscht Rückruf"]
    assert await subjects("in der") == ["Grüße aus Köln"]  # a two-letter fragment too
    assert await subjects("undicht köln") == []  # every fragment must match
    assert await subjects('"; DROP TABLE x; --') == []
    # Wildcards are literal: the index narrows by the pieces, the exact LIKE decides.
    assert await subjects("100% rabatt") == ["Aktion"]
    assert await subjects("0%") == ["Aktion"]
    assert await subjects("auf_alles") == ["Aktion"]
    assert await subjects("aufxalles") == []
    assert await subjects("rabatt%auf") == []
    page = await http.get("/search", params={"q": "rinne"})
    assert "Schaden am Gebäude" in page.text
    index = {
        "sqlite": "SELECT count(*) FROM sqlite_master WHERE name = 'timeline_fts'",
        "postgresql": "SELECT count(*) FROM pg_indexes WHERE indexname = 'timeline_text_trgm' "
        "AND schemaname = current_schema()",
    }[backend]
    async with store.db.read() as conn:
        assert (await conn.execute(sa.text(index))).scalar_one() == 1  # an index, not a scan


async def test_timeline_keeps_no_personal_fields_and_erasure_needs_no_rebuild(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await customer(store)
    await email(store, "joerg@mueller.example", "Geheime Kündigung", text="Ich kündige.")
    await web.settle()
    timeline = web.kartei.projections["timeline"].projection
    async with store.db.read() as conn:
        rows = (await conn.execute(sa.select(timeline.entries.c.data))).scalars().all()
        parties = (await conn.execute(sa.select(timeline.parties.c.party))).scalars().all()
    stored = " ".join(rows + parties)
    assert "Kündigung" not in stored and "joerg@mueller" not in stored
    assert [orjson.loads(r)["direction"] for r in rows] == ["inbound"]
    assert "Geheime Kündigung" in (await http.get(f"/contacts/{cid}")).text
    assert len((await data.search(web.kartei, "kündigung"))["entries"]) == 1
    # Erasure: the key goes, and the search rows with it; the timeline is not rebuilt.
    async with store.db.write() as conn:
        assert await store.keys.erase(conn, "email:joerg@mueller.example")
        assert await timeline.forget_text(conn, "email:joerg@mueller.example") == 1
    card = await data.card(web.kartei, cid)
    assert card is not None and len(card.entries) == 1  # still there, as a bare fact
    assert card.entries[0].data["subject"] == "" and card.entries[0].data["sender"] == ""
    assert "Kündigung" not in (await http.get(f"/contacts/{cid}")).text
    assert (await data.search(web.kartei, "kündigung"))["entries"] == []


async def test_card_queries_do_not_grow_with_its_entries(
    web: Web, store: EventStore, admin
) -> None:
    """No per-entry queries: a page of 50 costs the statements a page of 5 does."""
    http, _ = admin
    cid = await customer(store)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    async def card_statements() -> int:
        await web.settle()
        statements.clear()
        sa.event.listen(store.db.reader.sync_engine, "before_cursor_execute", count)
        try:
            assert (await http.get(f"/contacts/{cid}")).status_code == 200
        finally:
            sa.event.remove(store.db.reader.sync_engine, "before_cursor_execute", count)
        return len(statements)

    # The first view of a card records CardViewed (once per user, card and few minutes).
    await web.settle()
    assert (await http.get(f"/contacts/{cid}")).status_code == 200
    for i in range(5):
        await email(store, "joerg@mueller.example", f"Nachricht {i}", minutes=i)
    few = await card_statements()
    for i in range(5, 60):
        await email(store, "joerg@mueller.example", f"Nachricht {i}", minutes=i)
    await fax(web, store)
    many = await card_statements()
    assert 3 <= few == many, statements


async def test_hostile_fax_and_attachment_fields_render_as_text(
    web: Web, store: EventStore, admin
) -> None:
    http, _ = admin
    cid = await customer(store)
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    event = FaxReceived(
        sender=FAX_NUMBER,
        sender_raw=hostile,
        pages=1,
        subject=hostile,
        document_name=hostile,
        document_type="application/pdf",
        document_size=len(PDF),
        document_ref=archive_of(web).put(PDF),
        preview_ref=archive_of(web).put(hostile.encode()),  # not a PNG: never served
        text=hostile,
        ocr_status="done",
    )
    await store.append(f"fax-{'2' * 32}", 0, [NewEvent(event)])
    await web.settle()
    card = (await http.get(f"/contacts/{cid}")).text
    assert "<script>alert" not in card and "<img src=x" not in card
    assert card.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # subject, name, text
    assert (await http.get(f"/faxes/fax-{'2' * 32}/preview")).status_code == 404
    document = await http.get(f"/faxes/fax-{'2' * 32}/document")
    assert document.headers["content-type"] == "application/octet-stream"
    assert re.fullmatch(
        r'attachment; filename="[A-Za-z0-9._ -]+\.pdf"', document.headers["content-disposition"]
    )


async def test_search_page_lists_a_fax_with_its_contact(web: Web, store: EventStore, admin) -> None:
    http, _ = admin
    cid = await customer(store)
    stream, position = await fax(web, store)
    await classify(store, stream, position, "praise")
    await web.settle()
    page = (await http.get("/search", params={"q": "dachziegel"})).text
    assert f'href="/contacts/{cid}?kind=fax"' in page and "Lob" in page
    assert f'href="/faxes/{stream}/document"' in page
