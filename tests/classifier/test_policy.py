"""The classifier policy end to end through the store, with real EmailReceived events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hub.bootstrap import bootstrap, run
from hub.events import NewEvent
from hub.events.classification import CustomerAtRisk, MessageClassified
from hub.events.contacts import ContactCreated
from hub.events.mail import EmailReceived
from hub.events.tasks import TaskOpened
from hub.policy import PolicyRunner
from hub.projection import ProjectionRunner
from hub.settings import settings_from_dict
from hub.store import ANY, Database, EventStore
from policies.churn import ChurnPolicy
from policies.classifier.model import EncoderHeadModel
from policies.classifier.policy import ClassifierPolicy
from projections.identity import IdentityIndex
from tests.classifier.messages import COMPLAINTS, NEUTRAL, PRAISE

KLAUS = "klaus.meier@meier-bau.de"


async def email(store: EventStore, n: int, sender: str, text: str, subject: str = "") -> int:
    body = f"Hallo,\n\n{text}\n\nMit freundlichen Grüßen\nKlaus Meier\n\n> alte Nachricht"
    event = EmailReceived(message_id=f"<{n}@test>", sender=sender, subject=subject, text=body)
    result = await store.append(f"email-{n}", ANY, [NewEvent(event, f"mail:{n}")])
    return result.positions[0]


async def started(store: EventStore, policy: object) -> PolicyRunner:
    runner = PolicyRunner(store, policy)  # type: ignore[arg-type]
    await runner.prepare()
    return runner


async def with_klaus(store: EventStore) -> IdentityIndex:
    klaus = ContactCreated(
        contact_id="c-klaus", given_name="Klaus", family_name="Meier", emails=(KLAUS,), owner="anna"
    )
    await store.append("contact-c-klaus", ANY, [NewEvent(klaus)])
    identity = IdentityIndex()
    runner = ProjectionRunner(store, identity)
    await runner.prepare()
    await runner.catch_up()
    return identity


def policy_for(
    store: EventStore, model: EncoderHeadModel, identity: IdentityIndex
) -> ClassifierPolicy:
    async def contact_of(address: str) -> str | None:
        async with store.db.read() as conn:
            match = await identity.lookup_email(conn, address)
        return match.contact_id if match else None

    return ClassifierPolicy(lambda: model, contact_of=contact_of, batch_size=4)


async def classified(store: EventStore) -> list[MessageClassified]:
    records = await store.read_all(0, 10_000, types=("MessageClassified",))
    return [r.event for r in records if isinstance(r.event, MessageClassified)]


async def test_emails_are_classified_once_naming_model_and_contact(
    store: EventStore, model: EncoderHeadModel
) -> None:
    identity = await with_klaus(store)
    positions = [
        await email(store, 1, KLAUS, COMPLAINTS[0], "Ersatzteile"),
        await email(store, 2, KLAUS, PRAISE[0]),
        await email(store, 3, "someone@else.example", NEUTRAL[0], "Anfrage"),
    ]
    runner = await started(store, policy_for(store, model, identity))
    await runner.catch_up()
    events = await classified(store)
    assert [e.message_position for e in events] == positions
    assert [e.contact_id for e in events] == ["c-klaus", "c-klaus", None]
    assert {e.model for e in events} == {"multilingual-e5-small+head"}
    assert {e.model_version for e in events} == {model.version}
    assert all(0.33 < e.confidence <= 1 and e.scores for e in events)
    assert events[0].message_stream == "email-1" and events[0].message_type == "EmailReceived"

    # A restart resumes at the checkpoint: nothing is classified twice.
    later = await email(store, 4, KLAUS, NEUTRAL[1])
    restarted = await started(store, policy_for(store, model, identity))
    await restarted.catch_up()
    assert [e.message_position for e in await classified(store)] == [*positions, later]


async def test_three_complaint_emails_put_the_customer_at_risk(
    store: EventStore, model: EncoderHeadModel
) -> None:
    identity = await with_klaus(store)
    classifier = await started(store, policy_for(store, model, identity))
    churn = await started(store, ChurnPolicy(store, default_owner="anna"))
    for n, text in enumerate(COMPLAINTS[1:4], start=1):
        await email(store, n, KLAUS, text)
    await classifier.catch_up()
    assert [e.label for e in await classified(store)] == ["complaint"] * 3
    await churn.catch_up()
    records = await store.read_all(0, 10_000, types=("CustomerAtRisk", "TaskOpened"))
    risk, task = (r.event for r in records)
    assert isinstance(risk, CustomerAtRisk) and risk.contact_id == "c-klaus"
    assert isinstance(task, TaskOpened) and task.assignee == "anna"


async def test_the_event_loop_keeps_running_while_the_model_works(
    model: EncoderHeadModel,
) -> None:
    policy = ClassifierPolicy(lambda: model, batch_size=16)
    await policy.model()
    texts = [" ".join([COMPLAINTS[0]] * 8)] * 32  # long messages: seconds of work
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started_at = time.perf_counter()
    predictions = await policy.predict(texts)
    elapsed = time.perf_counter() - started_at
    tick.cancel()
    assert len(predictions) == 32
    assert elapsed > 0.5 and len(gaps) > 10
    assert max(gaps) < 0.25, f"event loop stalled {max(gaps):.3f}s while classifying"
    policy.close()


async def test_the_running_kartei_classifies_in_its_worker_process_and_flags_risk(
    tmp_path: Path, database_url: str, model_cache: Path
) -> None:
    """The real composition root and runtime: capture, classifier worker, churn, task."""
    settings = settings_from_dict(
        {
            "kartei": {"data_dir": str(tmp_path)},
            "database": {"url": database_url},
            "classifier": {"cache_dir": str(model_cache)},
        }
    )
    seeding = EventStore(Database(database_url))
    await seeding.start()
    klaus = ContactCreated(contact_id="c-klaus", family_name="Meier", emails=(KLAUS,))
    await seeding.append("contact-c-klaus", ANY, [NewEvent(klaus)])
    mails = [await email(seeding, n, KLAUS, text) for n, text in enumerate(COMPLAINTS[1:4])]
    await seeding.close()
    kartei = bootstrap(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(run(kartei, stop, web=False))
    try:
        # The third classification lands right after the mails; churn reacts to it.
        async with asyncio.timeout(120):
            await kartei.policies["churn"].wait_for(mails[-1] + 3)
        wanted = ("MessageClassified", "CustomerAtRisk", "TaskOpened")
        found = await kartei.store.read_all(0, 100, types=wanted)
        assert [r.type_name for r in found] == [*wanted[:1] * 3, *wanted[1:]]
        assert kartei.health.component("classifier").details["model_version"]
    finally:
        stop.set()
        await running
