"""The alert that asks staff to write to or call a customer at risk says which channels
the customer blocked."""

from __future__ import annotations

import pytest

from adapters.telegram.client import TelegramChannel
from hub.health import ComponentHealth
from hub.store import EventStore
from policies.alerts import AlertPolicy, Card, Deliverer
from tests.classifier.telegram_peer import BotApiPeer
from tests.classifier.test_alerts import STAFF, at_risk, started

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_the_risk_alert_names_blocked_channels(store: EventStore, peer: BotApiPeer) -> None:
    async def describe(contact_id: str) -> Card:
        return Card(contact_id, "Greta Sperrling", owner="anna", blocked=("letter", "phone"))

    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    deliverer = Deliverer(store, [telegram], ComponentHealth("policy:alerts"), attempts=3)
    runner = await started(store, AlertPolicy(deliverer, describe, STAFF))
    await at_risk(store)
    await runner.catch_up()
    [message] = peer.sent
    assert "keine Kontaktaufnahme per Brief, Telefon" in message["text"]
    await telegram.close()
