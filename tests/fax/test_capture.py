"""Faxes as provider emails through the real SMTP fax intake (smtplib on loopback)."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from adapters.fax import ocr
from adapters.fax.intake import FaxRules
from adapters.fax.retry import FaxOcrPolicy
from hub.archive import Archive
from hub.events import NewEvent
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.mail import CaptureFailed
from hub.policy import PolicyRunner
from hub.store import EventStore
from tests.contacts.conftest import Directory, phone
from tests.fax import documents, messages
from tests.fax.conftest import PROFILES, Documents, all_events, deliver

GERMAN_WORDS = ("Reklamation", "Lieferung", "Müller", "beschädigt", "Rückruf", "Grüße", "März")
ENGLISH_WORDS = ("Purchase", "order", "4711", "warehouse", "Friday")


async def firm(contacts: Directory) -> None:
    """A company whose switchboard 0221 9876-0 sends faxes, a person with a fax number."""
    await contacts.service.create(
        {"kind": "company", "company": "Bäckerei Müller GmbH",
         "phones": (phone("0221 9876-0", "switchboard"),)}
    )  # fmt: skip
    await contacts.service.create(
        {"given_name": "Jörg", "family_name": "Meier", "phones": (phone("+49 89 1234560", "fax"),)}
    )
    await contacts.sync()


def faxes(events: list) -> list[FaxReceived]:
    return [r.event for r in events if isinstance(r.event, FaxReceived)]


async def test_provider_faxes_are_captured_linked_and_read(
    store: EventStore, start_server, contacts: Directory, archive: Archive, docs: Documents
) -> None:
    await firm(contacts)
    server = await start_server()
    sent = {
        "fritzbox": (
            messages.fritzbox(docs.g4_two_pages, "Fax.tif", "image/tiff"),
            docs.g4_two_pages,
        ),
        "sipgate": (messages.sipgate(docs.scanned), docs.scanned),
        "placetel": (messages.placetel(docs.text_layer), docs.text_layer),
        "hylafax": (messages.hylafax(docs.g3_coarse), docs.g3_coarse),
    }
    for raw, _ in sent.values():
        assert await deliver(server.port, raw) == 250  # answered after the commit
    found = {f.profile: f for f in faxes(await all_events(store))}
    assert set(found) == set(sent)
    for name, (raw, document) in sent.items():
        fax = found[name]
        assert archive.get(fax.document_ref) == document
        assert archive.get(fax.raw_ref) == raw
        assert fax.ocr_status == "done" and fax.document_error == ""
        assert fax.receiver == "+4930555099"
        assert fax.mailboxes == ("smtp:fax",)
    for name in ("fritzbox", "sipgate", "placetel"):
        assert found[name].pages == 2
        assert all(word in found[name].text for word in GERMAN_WORDS + ENGLISH_WORDS), name
    assert found["hylafax"].pages == 1
    assert all(word in found["hylafax"].text for word in ENGLISH_WORDS)
    assert found["placetel"].text_source == "pdf" and found["sipgate"].text_source == "ocr"
    for name in ("fritzbox", "sipgate", "hylafax"):
        assert archive.get(found[name].preview_ref or "").startswith(b"\x89PNG")

    async with store.db.read() as conn:
        by_switchboard = await contacts.identity.lookup_number(conn, found["fritzbox"].sender or "")
        by_fax = await contacts.identity.lookup_number(conn, found["sipgate"].sender or "")
        unknown = await contacts.identity.lookup_number(conn, found["placetel"].sender or "")
    assert by_switchboard is not None and by_switchboard.how == "switchboard"
    assert by_switchboard.company == "Bäckerei Müller GmbH"
    assert by_fax is not None and by_fax.how == "exact" and "Meier" in by_fax.display_name
    assert unknown is None and found["placetel"].sender == "+49407654321"

    before = await store.head()
    assert await deliver(server.port, sent["fritzbox"][0]) == 250  # a redelivery
    assert await store.head() == before  # nothing appended twice


async def test_garbage_gets_a_clear_outcome_and_nothing_is_lost(
    store: EventStore, start_server, archive: Archive, docs: Documents
) -> None:
    server = await start_server()
    corrupt = messages.generic(b"%PDF-1.4\n1 0 obj << /Type /Pag", "kaputt.pdf")
    empty = messages.hylafax(b"", "leer.tif")
    too_big = messages.generic(b"%PDF-1.4\n" + b"0" * 1_200_000, "gross.pdf")
    path_name = messages.generic(docs.text_layer, "../../etc/cron.d/evil.pdf")
    no_fax = messages.fax_email(
        "a@b.example", "Hallo", "kein Fax", b"hi", "notiz.txt", "text/plain"
    )
    for raw in (corrupt, empty, too_big, path_name, no_fax, b"\x00\x01 not an email"):
        assert await deliver(server.port, raw) == 250
    assert await deliver(server.port, messages.generic(b"0" * 5_000_000, "x.pdf")) == 552
    events = await all_events(store)
    found = {f.document_name: f for f in faxes(events)}
    assert "unreadable PDF" in found["kaputt.pdf"].document_error
    assert "empty TIFF (0 bytes)" in found["leer.tif"].document_error
    assert "too large" in found["gross.pdf"].document_error
    assert found["gross.pdf"].ocr_status == found["kaputt.pdf"].ocr_status == "none"
    evil = found["evil.pdf"]  # the path is dropped; the archive is addressed by content
    assert evil.document_error == "" and "Müller" in evil.text
    for fax in found.values():
        assert archive.has(fax.raw_ref) and archive.has(fax.document_ref)
        assert fax.sender == "+49221987654" or fax.profile == "hylafax"
    failed = [r.event for r in events if isinstance(r.event, CaptureFailed)]
    assert len(failed) == 2 and all(archive.has(f.raw_ref) for f in failed)
    assert any("no fax document" in f.error and "notiz.txt" in f.error for f in failed)


async def test_ocr_that_cannot_run_is_pending_then_retried(
    store: EventStore, start_server, archive: Archive, docs: Documents
) -> None:
    rules = FaxRules(PROFILES, languages="deu+xyz")  # a language pack that is not installed
    server = await start_server(rules)
    assert await deliver(server.port, messages.hylafax(docs.g3_coarse)) == 250
    [fax] = faxes(await all_events(store))
    assert fax.ocr_status == "pending" and fax.text == ""
    assert "tesseract-ocr-xyz" in fax.ocr_error
    health = server.capture.health
    async with asyncio.timeout(10):
        while True:  # the warning is set right after the listener is up
            if health.state == "degraded":
                break
            await asyncio.sleep(0.02)
    assert "tesseract-ocr-xyz" in (health.error or "")

    broken = PolicyRunner(store, FaxOcrPolicy(archive, "deu+xyz"))
    await broken.prepare()
    with pytest.raises(ocr.OcrError, match="tesseract-ocr-xyz"):
        await broken.catch_up()  # the supervisor shows this and retries later

    runner = PolicyRunner(store, FaxOcrPolicy(archive, "deu+eng"))
    await runner.prepare()
    await runner.catch_up()
    [recognized] = [r for r in await all_events(store) if isinstance(r.event, FaxTextRecognized)]
    assert all(word in recognized.event.text for word in ENGLISH_WORDS)
    assert recognized.event.sender == fax.sender == "+442079460000"
    await runner.catch_up()
    assert len([r for r in await all_events(store) if r.type_name == "FaxTextRecognized"]) == 1


def test_documents_have_fax_resolution(docs: Documents) -> None:

    coarse = Image.open(io.BytesIO(docs.g3_coarse))
    assert coarse.info["compression"] == "group3" and tuple(coarse.info["dpi"]) == (200, 100)
    fine = Image.open(io.BytesIO(docs.g4_two_pages))
    assert fine.info["compression"] == "group4" and fine.n_frames == 2
    assert fine.width == documents.WIDTH


async def test_ocr_retry_gives_up_on_an_unreadable_document(
    store: EventStore, archive: Archive
) -> None:
    broken = FaxReceived(
        sender="+49221987654", ocr_status="pending", document_ref=archive.put(b"%PDF-1.4 junk")
    )
    gone = FaxReceived(
        sender="+49221987654", ocr_status="pending", document_ref="sha256:" + "0" * 64
    )
    await store.append("fax-a", 0, [NewEvent(broken, "a")])
    await store.append("fax-b", 0, [NewEvent(gone, "b")])
    runner = PolicyRunner(store, FaxOcrPolicy(archive, "deu+eng"))
    await runner.prepare()
    assert await runner.catch_up() == await store.head()  # moved on, nothing appended
    assert [r.type_name for r in await all_events(store)] == ["FaxReceived", "FaxReceived"]
