"""The daily digest with tasks due on a day (the card's date field, no time of day): a day
is overdue once it is over, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.telegram.client import TelegramChannel
from hub.events import NewEvent
from hub.events.tasks import TaskOpened
from hub.health import ComponentHealth
from hub.projection import ProjectionRunner
from hub.store import EventStore
from policies.alerts import Deliverer
from policies.digest import Digest
from projections.tasks import TaskQueue
from tests.classifier.telegram_peer import BotApiPeer
from tests.classifier.test_alerts import STAFF

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_a_due_day_is_overdue_once_it_is_over(store: EventStore, peer: BotApiPeer) -> None:
    tasks = TaskQueue()
    runner = ProjectionRunner(store, tasks)
    await runner.prepare()
    now = datetime.now(UTC)
    days = {"Angebot nachfassen": now.date() - timedelta(days=1), "Heute anrufen": now.date()}
    for i, (title, day) in enumerate(days.items()):
        task = TaskOpened(task_id=f"t{i}", title=title, assignee="anna", due_day=day)
        await store.append(f"task-t{i}", 0, [NewEvent(task)])
    await runner.catch_up()
    telegram = TelegramChannel(peer.token, base_url=peer.base_url)
    deliverer = Deliverer(store, [telegram], ComponentHealth("alerts"), initial_delay=0.05)
    digest = Digest(store, deliverer, STAFF, tasks=tasks, language="en")
    assert await digest.send(now) == 1
    [anna] = peer.sent
    yesterday = days["Angebot nachfassen"]
    assert f"Overdue tasks\n- Angebot nachfassen (-, {yesterday:%d.%m.})" in anna["text"]
    assert "Heute anrufen" not in anna["text"]
    await telegram.close()
