"""The timeline projection on both databases: links by address and number, follows merges."""

from __future__ import annotations

from hub.contacts.service import ContactService
from hub.events import NewEvent
from hub.events.classification import MessageClassified
from hub.events.contacts import Phone
from hub.events.mail import CommunicationLinked
from hub.events.notes import NoteAdded
from hub.events.tasks import TaskCompleted, TaskOpened
from hub.store import EventStore
from hub.web import data
from tests.web.conftest import Web
from tests.web.events import call, email

NUMBER = "+4930123456"


async def make_contact(store: EventStore, **card: object) -> str:
    return await ContactService(store).create(card)


async def test_card_shows_every_kind_newest_first(web: Web, store: EventStore) -> None:
    cid = await make_contact(
        store,
        given_name="Erika",
        family_name="Muster",
        emails=("erika@kunde.example",),
        phones=(Phone(number=NUMBER),),
    )
    stream, position = await email(store, "Erika@Kunde.example", "Lieferung fehlt", minutes=1)
    await call(store, NUMBER, minutes=2)
    await call(store, NUMBER, answered=False, minutes=3)
    await store.append(
        f"contact-{cid}",
        None,
        [NewEvent(NoteAdded(note_id="n1", contact_id=cid, text="Rückruf zugesagt", by="anna"))],
    )
    await store.append(
        "task-t1", 0, [NewEvent(TaskOpened(task_id="t1", title="Rückruf", contact_id=cid))]
    )
    await store.append("task-t1", None, [NewEvent(TaskCompleted(task_id="t1", by="anna"))])
    await store.append(
        f"classification-{position}",
        0,
        [
            NewEvent(
                MessageClassified(
                    message_position=position,
                    message_stream=stream,
                    message_type="EmailReceived",
                    label="complaint",
                    confidence=0.9,
                    model="m",
                    model_version="1",
                    contact_id=cid,
                )
            )
        ],
    )
    # Someone else's email must not show.
    await email(store, "fremd@anders.example", "Nicht für Erika")
    await web.settle()
    card = await data.card(web.kartei, cid)
    assert card is not None
    kinds = [e.kind for e in card.entries]
    assert sorted(kinds) == ["call", "call", "email", "note", "task"]
    by_kind = {e.kind: e for e in card.entries}
    assert by_kind["email"].label == "complaint"
    assert by_kind["email"].data["subject"] == "Lieferung fehlt"
    assert by_kind["task"].data["status"] == "done"
    statuses = sorted(e.data["status"] for e in card.entries if e.kind == "call")
    assert statuses == ["answered", "missed"]
    answered = next(e for e in card.entries if e.data.get("status") == "answered")
    assert answered.data["duration"] == 95 and answered.data["answered_by"] == "21"
    assert [e.at for e in card.entries] == sorted((e.at for e in card.entries), reverse=True)
    only_calls = await data.card(web.kartei, cid, kinds=("call",))
    assert only_calls is not None and {e.kind for e in only_calls.entries} == {"call"}


async def test_history_follows_new_addresses_and_merges(web: Web, store: EventStore) -> None:
    survivor = await make_contact(store, family_name="Schulz", emails=("a@schulz.example",))
    duplicate = await make_contact(store, family_name="Schulz", emails=("b@schulz.example",))
    await email(store, "b@schulz.example", "Vom Duplikat")
    await email(store, "c@schulz.example", "Von neuer Adresse")
    await store.append(
        f"contact-{duplicate}",
        None,
        [NewEvent(NoteAdded(note_id="n2", contact_id=duplicate, text="Notiz am Duplikat"))],
    )
    await web.settle()
    card = await data.card(web.kartei, survivor)
    assert card is not None and card.entries == []
    await ContactService(store).merge(survivor, duplicate)
    await ContactService(store).change(
        survivor, {"emails": ("a@schulz.example", "b@schulz.example", "c@schulz.example")}
    )
    await web.settle()
    card = await data.card(web.kartei, survivor)
    assert card is not None
    assert {e.data.get("subject") or e.data.get("text") for e in card.entries} == {
        "Vom Duplikat",
        "Von neuer Adresse",
        "Notiz am Duplikat",
    }


async def test_unknown_sender_assigned_by_hand(web: Web, store: EventStore) -> None:
    cid = await make_contact(store, company="Baufirma")
    stream, _ = await email(store, "privat@mail.example", "Anfrage")
    await web.settle()
    assert (await data.card(web.kartei, cid)).entries == []  # type: ignore[union-attr]
    link = CommunicationLinked(message_stream=stream, contact_id=cid, by="anna")
    await store.append(stream, None, [NewEvent(link)])
    await web.settle()
    card = await data.card(web.kartei, cid)
    assert card is not None and [e.data["subject"] for e in card.entries] == ["Anfrage"]


async def test_paging_long_histories(web: Web, store: EventStore) -> None:
    cid = await make_contact(store, family_name="Viel", emails=("viel@x.example",))
    for i in range(60):
        await email(store, "viel@x.example", f"Nachricht {i}", minutes=i)
    await web.settle()
    first = await data.card(web.kartei, cid)
    second = await data.card(web.kartei, cid, page=1)
    assert first is not None and second is not None
    assert len(first.entries) == 50 and first.more
    assert len(second.entries) == 10 and not second.more
    assert first.entries[0].data["subject"] == "Nachricht 59"
    assert second.entries[-1].data["subject"] == "Nachricht 0"


async def test_rebuild_gives_the_same_timeline(web: Web, store: EventStore) -> None:
    cid = await make_contact(store, family_name="Neu", phones=(Phone(number=NUMBER),))
    await call(store, NUMBER)
    await web.settle()
    before = await data.card(web.kartei, cid)
    await web.kartei.projections["timeline"].rebuild()
    after = await data.card(web.kartei, cid)
    assert before is not None and after is not None and before.entries == after.entries
