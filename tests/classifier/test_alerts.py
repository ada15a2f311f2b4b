"""Alerts on customers at risk: Telegram against a local Bot API peer, email against the
real SMTP intake; sent once (AlertSent), retried with backoff, failures in health."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.alert_email.sender import EmailChannel
from adapters.mail.pipeline import MailIntake, MailRules
from adapters.mail.smtp import IntakeRules, SmtpJournalIntake
from adapters.telegram.client import TelegramChannel
from hub.archive import Archive
from hub.bootstrap import bootstrap
from hub.capture import Capture
from hub.events import NewEvent
from hub.events.classification import AlertSent, CustomerAtRisk, MessageClassified
from hub.events.mail import EmailReceived
from hub.events.tasks import TaskOpened
from hub.health import ComponentHealth
from hub.policy import PolicyRunner
from hub.projection import ProjectionRunner
from hub.settings import StaffMember, settings_from_dict
from hub.store import ANY, EventStore
from policies.alerts import AlertPolicy, Card, Channel, Deliverer
from policies.digest import Digest
from projections.tasks import TaskQueue
from tests.classifier.telegram_peer import BotApiPeer

# python-telegram-bot 22 warns, while building its own RetryAfter, that int periods will
# become timedeltas (PTB_TIMEDELTA); that is upstream's migration, not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

STAFF = [
    StaffMember(name="anna", email="anna@firma.example", telegram_chat_id=4711),
    StaffMember(name="ben", telegram_chat_id=4712),
]


async def describe(contact_id: str) -> Card:
    return Card(contact_id, "Meier Bau GmbH", owner="anna", tags=("key",))


def alerts(store: EventStore, channels: list[Channel], **kwargs: object) -> AlertPolicy:
    health = ComponentHealth("policy:alerts")
    deliverer = Deliverer(store, channels, health, initial_delay=0.05, max_delay=2.0, attempts=3)
    return AlertPolicy(
        deliverer, describe, STAFF, card_url=lambda c: f"http://kartei/c/{c}", **kwargs
    )  # type: ignore[arg-type]


async def at_risk(store: EventStore, owner: str | None = "anna") -> None:
    event = CustomerAtRisk(
        contact_id="c-1",
        complaints=(3, 5, 7),
        score=3.0,
        reason="3 complaints in 90 days",
        owner=owner,
    )
    await store.append("risk-c-1", ANY, [NewEvent(event)])


async def started(store: EventStore, policy: AlertPolicy) -> PolicyRunner:
    runner = PolicyRunner(store, policy)
    await runner.prepare()
    return runner


async def sent_alerts(store: EventStore) -> list[AlertSent]:
    return [r.event for r in await store.read_all(0, 1000, types=("AlertSent",))]  # type: ignore[misc]


async def test_telegram_alert_to_the_owner_once(store: EventStore, peer: BotApiPeer) -> None:
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    policy = alerts(store, [telegram])
    runner = await started(store, policy)
    await at_risk(store)
    await runner.catch_up()
    [message] = peer.sent
    assert message["chat_id"] == "4711"
    assert "Kunde gefährdet: Meier Bau GmbH" in message["text"]
    assert "3 complaints in 90 days" in message["text"] and "http://kartei/c/c-1" in message["text"]
    [alert] = await sent_alerts(store)
    assert (alert.channel, alert.recipient, alert.contact_id) == ("telegram", "anna", "c-1")

    # The same cause again (a crash before the checkpoint moved): nothing is re-sent.
    await policy.react(await store.read_all(0, 1000, types=("CustomerAtRisk",)))
    assert len(peer.sent) == 1 and len(await sent_alerts(store)) == 1
    await telegram.close()


async def test_rate_limit_and_network_error_are_retried(
    store: EventStore, peer: BotApiPeer
) -> None:
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    policy = alerts(store, [telegram])
    runner = await started(store, policy)
    peer.script = ["429", "drop"]
    await at_risk(store)
    await runner.catch_up()
    assert len(peer.sent) == 1 and len(await sent_alerts(store)) == 1
    assert policy.deliverer.health.details["retries"] == 2
    assert policy.deliverer.health.state == "ok"
    await telegram.close()


async def test_failure_after_retries_shows_in_health_and_sends_later(
    store: EventStore, peer: BotApiPeer
) -> None:
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    policy = alerts(store, [telegram])
    runner = await started(store, policy)
    peer.script = ["drop", "drop", "drop"]
    await at_risk(store)
    with pytest.raises(ConnectionError):
        await runner.catch_up()
    health = policy.deliverer.health
    assert health.state == "degraded" and "gave up after 3 attempts" in (health.error or "")
    assert await sent_alerts(store) == []
    await runner.catch_up()  # what the supervisor's restart does
    assert len(peer.sent) == 1 and len(await sent_alerts(store)) == 1
    await telegram.close()


async def test_unknown_owner_goes_to_fallback_and_key_customer_complaints(
    store: EventStore, peer: BotApiPeer
) -> None:
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    policy = alerts(store, [telegram], fallback=["ben"], key_customer_tag="key")
    runner = await started(store, policy)
    await at_risk(store, owner="nobody-here")
    complaint = MessageClassified(
        message_position=1,
        message_stream="email-1",
        message_type="EmailReceived",
        label="complaint",
        confidence=0.9,
        model="m",
        model_version="1",
        contact_id="c-1",
    )
    await store.append("classification-1", ANY, [NewEvent(complaint)])
    await runner.catch_up()
    assert [m["chat_id"] for m in peer.sent] == ["4712", "4711"]
    assert "Beschwerde von Schlüsselkunde Meier Bau GmbH" in peer.sent[1]["text"]
    await telegram.close()


async def test_email_alert_through_the_real_smtp_intake(store: EventStore, tmp_path: Path) -> None:
    """Kartei's own SMTP intake receives the alert mail and captures it as EmailReceived."""
    intake = MailIntake(
        Archive(tmp_path / "archive"), MailRules(own_domains=frozenset()), workers=1
    )
    server = SmtpJournalIntake(
        "127.0.0.1", 0, IntakeRules.of(["anna@firma.example"], ["127.0.0.0/8"], 1_000_000), intake
    )
    task = asyncio.create_task(server.run(Capture(store, "smtp", ComponentHealth("smtp"))))
    try:
        async with asyncio.timeout(10):
            await server.ready.wait()
        email = EmailChannel("127.0.0.1", server.bound_port, sender="kartei@firma.example")
        runner = await started(store, alerts(store, [email]))
        await at_risk(store)
        await runner.catch_up()
        mails = [r.event for r in await store.read_all(0, 100, types=("EmailReceived",))]
        [mail] = mails
        assert isinstance(mail, EmailReceived)
        assert mail.subject == "Kunde gefährdet: Meier Bau GmbH"
        assert "3 complaints in 90 days" in mail.text
        [alert] = await sent_alerts(store)
        assert (alert.channel, alert.recipient) == ("email", "anna")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        intake.close()


async def test_daily_digest_once_a_day(store: EventStore, peer: BotApiPeer) -> None:
    tasks = TaskQueue()
    runner = ProjectionRunner(store, tasks)
    await runner.prepare()
    now = datetime.now(UTC)
    overdue = TaskOpened(
        task_id="t1",
        title="Write a kind letter",
        contact_id="c-1",
        assignee="anna",
        due=now - timedelta(days=1),
    )
    await store.append("task-t1", ANY, [NewEvent(overdue)])
    await at_risk(store)
    await runner.catch_up()
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    deliverer = Deliverer(store, [telegram], ComponentHealth("alerts"), initial_delay=0.05)
    digest = Digest(store, deliverer, STAFF, tasks=tasks, language="en")
    assert await digest.send(now) == 2  # anna: risk + her task; ben: the risk
    anna, ben = peer.sent
    assert "Customers newly at risk\n- c-1: 3 complaints in 90 days" in anna["text"]
    assert "Overdue tasks\n- Write a kind letter" in anna["text"]
    assert "Overdue tasks" not in ben["text"]
    assert await digest.send(now) == 0 and len(peer.sent) == 2
    await telegram.close()


async def test_health_says_why_classifier_and_alerts_are_off() -> None:
    kartei = bootstrap(settings_from_dict({"classifier": {"enabled": False}}))
    assert "classifier" not in kartei.policies and "churn" in kartei.policies
    classifier = kartei.health.component("classifier")
    assert classifier.state == "off" and "enabled = false" in classifier.details["why"]
    alerts = kartei.health.component("alerts")
    assert alerts.state == "off" and "no alert channel" in alerts.details["why"]


def test_kartei_without_the_classifier_extra_starts_and_says_why() -> None:
    script = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "sys.modules['transformers'] = None\n"
        "from hub.bootstrap import bootstrap\n"
        "from hub.settings import Settings\n"
        "k = bootstrap(Settings())\n"
        "print(sorted(k.policies), k.health.component('classifier').details['why'])\n"
        "print('torch' in sys.modules and sys.modules['torch'] is not None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    policies = out.splitlines()[0].split("]")[0]
    assert "'churn'" in policies and "'classifier'" not in policies
    assert "not installed: torch, transformers" in out
    assert out.splitlines()[1] == "False"
