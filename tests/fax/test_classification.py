"""Faxes are classified like emails (their text layer or OCR text) and count for churn."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from adapters.fax.intake import FaxRules
from adapters.fax.retry import FaxOcrPolicy
from hub.archive import Archive
from hub.bootstrap import bootstrap, run
from hub.events import NewEvent
from hub.events.classification import CustomerAtRisk, MessageClassified
from hub.events.contacts import ContactCreated
from hub.events.fax import FaxReceived, FaxTextRecognized
from hub.events.tasks import TaskOpened
from hub.policy import PolicyRunner
from hub.settings import settings_from_dict
from hub.store import ANY, Database, EventStore
from policies.churn import ChurnPolicy
from policies.classifier.cleanup import fax_words
from policies.classifier.model import EncoderHeadModel
from policies.classifier.policy import ClassifierPolicy
from tests.classifier.conftest import model, model_cache  # noqa: F401 (fixtures)
from tests.classifier.messages import COMPLAINTS, NEUTRAL
from tests.contacts.conftest import Directory, phone
from tests.fax import documents, messages
from tests.fax.conftest import PROFILES, all_events, deliver

MEIER_FAX = "+49891234560"  # the sender of the sipgate profile's sample faxes


def letter(words: str) -> list[list[str]]:
    """A one-page fax letter: letterhead rule, salutation, the words, closing, name."""
    body = textwrap.wrap(words, 40)
    lines = ["Meier Bau GmbH", "______________________", "Sehr geehrte Damen und Herren,", *body]
    return [[*lines, "Mit freundlichen Grüßen", "Jörg Meier"]]


def test_fax_words_are_the_letter_without_rules_hyphens_and_closing() -> None:
    text = (
        "Seite 1 / Page 1\nMeier Bau GmbH\n______________\nSehr geehrte Damen und Herren,\n"
        "die Ware ist beschä-\ndigt angekommen.\fSeite 2\nHallo, bitte um Rückruf.\n"
        "Mit freundlichen Grüßen\nJörg Meier\nAmtsgericht München HRB 1234"
    )
    words = fax_words(text)
    kept = ["Meier Bau GmbH", "die Ware ist beschädigt angekommen.", "Hallo, bitte um Rückruf."]
    assert words == "\n\n".join(kept)
    assert fax_words("Müller-\nLüdenscheidt") == "Müller-\nLüdenscheidt"  # a name, not a break
    assert fax_words("") == ""


async def test_fax_text_is_classified_and_three_fax_complaints_flag_the_sender(
    store: EventStore,
    start_server,
    contacts: Directory,
    archive: Archive,
    model: EncoderHeadModel,  # noqa: F811
) -> None:
    await contacts.service.create({"family_name": "Meier", "phones": (phone(MEIER_FAX, "fax"),)})
    await contacts.sync()
    at_capture = await start_server()  # OCR (or the PDF's text layer) while capturing
    later = await start_server(FaxRules(PROFILES, ocr=False))  # text by the OCR policy
    text_layer = messages.sipgate(documents.text_pdf(letter(COMPLAINTS[8])))
    scanned = messages.sipgate(documents.scanned_pdf(letter(COMPLAINTS[3])))
    # A TIFF sent as application/pdf: the OCR policy goes by the bytes, not the label.
    pending = messages.sipgate(documents.tiff(letter(COMPLAINTS[7])))
    neutral = messages.placetel(documents.text_pdf(letter(NEUTRAL[0])))  # an unknown number
    for port, raw in [(at_capture.port, text_layer), (at_capture.port, scanned),
                      (later.port, pending), (at_capture.port, neutral)]:  # fmt: skip
        assert await deliver(port, raw) == 250
    ocr = PolicyRunner(store, FaxOcrPolicy(archive))
    await ocr.prepare()
    await ocr.catch_up()

    async def contact_of_number(number: str) -> str | None:
        async with store.db.read() as conn:
            match = await contacts.identity.lookup_number(conn, number)
        return match.contact_id if match else None

    classifier = ClassifierPolicy(lambda: model, contact_of_number=contact_of_number)
    runners = [PolicyRunner(store, classifier), PolicyRunner(store, ChurnPolicy(store))]
    for runner in runners:
        await runner.prepare()
        await runner.catch_up()

    events = await all_events(store)
    by_position = {r.position: r for r in events}
    labels = [r.event for r in events if isinstance(r.event, MessageClassified)]
    assert [(c.message_type, c.label) for c in labels] == [
        ("FaxReceived", "complaint"),
        ("FaxReceived", "complaint"),
        ("FaxReceived", "neutral"),
        ("FaxTextRecognized", "complaint"),  # the fax captured without text is not labelled
    ]
    [pending_fax] = [
        r for r in events if isinstance(r.event, FaxReceived) and r.event.ocr_status == "pending"
    ]
    recognized = by_position[labels[3].message_position]
    assert isinstance(recognized.event, FaxTextRecognized)
    assert labels[3].message_stream == recognized.stream == pending_fax.stream
    assert labels[3].message_at == pending_fax.event.received_at
    assert [c.contact_id is not None for c in labels] == [True, True, False, True]
    assert len({c.contact_id for c in labels if c.contact_id}) == 1
    [risk] = [r.event for r in events if isinstance(r.event, CustomerAtRisk)]
    [task] = [r.event for r in events if isinstance(r.event, TaskOpened)]
    assert risk.contact_id == labels[0].contact_id and len(risk.complaints) == 3
    assert task.kind == "kind_letter" and task.contact_id == risk.contact_id
    classifier.close()


async def test_the_running_kartei_classifies_faxes_by_number_and_flags_risk(
    tmp_path: Path,
    database_url: str,
    model_cache: Path,  # noqa: F811
) -> None:
    """The composition root's classifier finds a fax's sender by number; churn follows."""
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "database": {"url": database_url},
            # In a thread: a worker process would outlive this test if the test were killed
            # (the process worker itself is tested in tests/classifier).
            "classifier": {"cache_dir": str(model_cache), "worker": "thread"},
        }
    )
    seeding = EventStore(Database(database_url))
    await seeding.start()
    firm = ContactCreated(
        contact_id="c-meier", kind="company", company="Meier Bau GmbH",
        phones=(phone("089 1234-0", "switchboard"),),
    )  # fmt: skip
    await seeding.append("contact-c-meier", ANY, [NewEvent(firm)])
    positions = []
    for n, words in enumerate((COMPLAINTS[3], COMPLAINTS[7], COMPLAINTS[8])):
        text = "\n".join(["Seite 1", *letter(words)[0]])
        fax = FaxReceived(sender=MEIER_FAX, sender_raw="089 1234560", text=text, pages=1)
        done = await seeding.append(f"fax-{n}", ANY, [NewEvent(fax, f"fax:{n}")])
        positions.append(done.positions[0])
    await seeding.close()
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop, web=False))
    try:
        async with asyncio.timeout(120):  # three classifications, then churn's reaction
            while len(labelled := await kartei.store.read_all(types=["MessageClassified"])) < 3:  # noqa: ASYNC110 - a poll under a timeout
                await asyncio.sleep(0.1)
            await kartei.policies["churn"].wait_for(labelled[-1].position)
        wanted = ("MessageClassified", "CustomerAtRisk", "TaskOpened")
        found = await kartei.store.read_all(0, 100, types=wanted)
        assert [r.type_name for r in found] == [*wanted[:1] * 3, *wanted[1:]]
        labels = [r.event for r in found[:3]]
        assert all(isinstance(e, MessageClassified) for e in labels)
        assert {(e.label, e.contact_id) for e in labels} == {("complaint", "c-meier")}  # type: ignore[union-attr]
        assert found[3].event.contact_id == "c-meier"  # type: ignore[union-attr]
    finally:
        stop.set()
        await running
