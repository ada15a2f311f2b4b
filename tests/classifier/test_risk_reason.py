"""Why a customer is at risk is said in the reader's language: the counts travel with the
CustomerAtRisk event, the alert says them in the firm's language, the kind-letter task
too (both databases; the card and dashboard: tests/web/test_risk_reason_shown.py).

Regression: the German card timeline and the German alert read "3 complaints in 90 days".
"""

from __future__ import annotations

import pytest

from adapters.telegram.client import TelegramChannel
from hub.store import EventStore
from hub.web.i18n import GERMAN
from policies.churn import ChurnPolicy
from projections.risk_reason import COMPLAINTS, PRAISE, Reason
from tests.classifier.telegram_peer import BotApiPeer
from tests.classifier.test_alerts import alerts
from tests.classifier.test_churn import History, raised, started

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_the_counts_travel_with_the_risk_and_the_task_speaks_german(
    store: EventStore,
) -> None:
    runner = await started(store, ChurnPolicy(store, language="de"))
    customer = History(store)
    for label in ("complaint", "praise", "complaint", "complaint", "complaint"):
        await customer.says(label)
    await runner.catch_up()
    [risk], [task] = await raised(store)
    assert risk.reason_values == {"complaints": 4, "praise": 1, "days": 90}
    assert risk.reason == "4 complaints in 90 days, praised once"  # the log's English
    assert task.reason == "4 Beschwerden in 90 Tagen, einmal gelobt"


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [
        ("de", "3 Beschwerden in 90 Tagen", "complaints"),
        ("en", "3 complaints in 90 days", "Beschwerden"),
    ],
)
async def test_the_alert_says_why_in_the_firms_language(
    store: EventStore,
    peer: BotApiPeer,
    language: str,
    said: str,
    not_said: str,
) -> None:
    churn = await started(store, ChurnPolicy(store, owner_of=lambda _: _anna()))
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    alerting = await started(store, alerts(store, [telegram], language=language))  # type: ignore[arg-type]
    customer = History(store)
    for _ in range(3):
        await customer.says("complaint")
    await churn.catch_up()
    await alerting.catch_up()
    [message] = peer.sent
    assert f"Meier Bau GmbH: {said}." in message["text"] and not_said not in message["text"]
    await telegram.close()


async def _anna() -> str:
    return "anna"


def test_every_reason_key_has_a_german_text() -> None:
    for key in (*COMPLAINTS, *PRAISE):
        assert key in GERMAN, key
    assert str(Reason(1, 0, 30)) == "1 complaint in 30 days"
    assert str(Reason(2, 3, 90)) == "2 complaints in 90 days, praised 3 times"
