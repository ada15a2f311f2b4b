"""The churn rule on scripted histories, through the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.events import NewEvent
from hub.events.classification import (
    ClassificationCorrected,
    CustomerAtRisk,
    MessageClassified,
    RiskAcknowledged,
)
from hub.events.tasks import TaskOpened
from hub.policy import PolicyRunner
from hub.projection import ProjectionRunner
from hub.store import ANY, EventStore
from policies.churn import ChurnPolicy
from projections.risk import RiskList

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class History:
    """Appends a customer's classified messages, one a day unless told otherwise."""

    def __init__(self, store: EventStore, contact_id: str = "c-1") -> None:
        self.store = store
        self.contact_id = contact_id
        self.n = 0

    async def says(self, label: str, *, day: int | None = None) -> int:
        self.n += 1
        at = T0 + timedelta(days=self.n if day is None else day)
        event = MessageClassified(
            message_position=10_000 + self.n,
            message_stream=f"email-{self.n}",
            message_type="EmailReceived",
            label=label,
            confidence=0.9,
            model="test",
            model_version="1",
            contact_id=self.contact_id,
            message_at=at,
        )
        result = await self.store.append(f"classification-{self.n}", ANY, [NewEvent(event)])
        return result.positions[-1]

    async def acknowledged(self, comment: str = "called, all good") -> None:
        event = RiskAcknowledged(contact_id=self.contact_id, comment=comment, by="anna")
        await self.store.append(f"risk-{self.contact_id}", ANY, [NewEvent(event)])


async def raised(store: EventStore) -> tuple[list[CustomerAtRisk], list[TaskOpened]]:
    records = await store.read_all(0, 10_000, types=("CustomerAtRisk", "TaskOpened"))
    risks = [r.event for r in records if isinstance(r.event, CustomerAtRisk)]
    tasks = [r.event for r in records if isinstance(r.event, TaskOpened)]
    return risks, tasks


async def started(store: EventStore, policy: ChurnPolicy) -> PolicyRunner:
    runner = PolicyRunner(store, policy)
    await runner.prepare()
    return runner


async def owner_of(contact_id: str) -> str | None:
    return {"c-1": "anna"}.get(contact_id)


async def test_third_complaint_raises_once_with_task(store: EventStore) -> None:
    runner = await started(store, ChurnPolicy(store, owner_of=owner_of))
    customer = History(store)
    await customer.says("complaint")
    await customer.says("neutral")
    await customer.says("complaint")
    await runner.catch_up()
    assert await raised(store) == ([], [])

    third = await customer.says("complaint")
    await runner.catch_up()
    risks, tasks = await raised(store)
    assert len(risks) == 1 and len(tasks) == 1
    assert len(risks[0].complaints) == 3 and risks[0].owner == "anna"
    assert "3 complaints in 90 days" in risks[0].reason
    assert tasks[0].kind == "kind_letter" and tasks[0].assignee == "anna"
    assert tasks[0].contact_id == "c-1" and tasks[0].cause_position == third

    await customer.says("complaint")
    await runner.catch_up()
    assert [len(x) for x in await raised(store)] == [1, 1]


async def test_acknowledgement_then_three_more_raises_again(store: EventStore) -> None:
    runner = await started(store, ChurnPolicy(store))
    customer = History(store)
    for _ in range(3):
        await customer.says("complaint")
    await runner.catch_up()
    await customer.acknowledged()
    await customer.says("complaint")
    await customer.says("complaint")
    await runner.catch_up()
    assert [len(x) for x in await raised(store)] == [1, 1]
    await customer.says("complaint")
    await runner.catch_up()
    assert [len(x) for x in await raised(store)] == [2, 2]


async def test_restart_decides_as_an_uninterrupted_run(store: EventStore) -> None:
    customer = History(store)
    for _ in range(2):
        await customer.says("complaint")
    await (await started(store, ChurnPolicy(store))).catch_up()
    # A new process: the policy rebuilds the standing from the log up to its checkpoint.
    restarted = await started(store, ChurnPolicy(store))
    await customer.says("complaint")
    await customer.says("complaint")
    await restarted.catch_up()
    assert [len(x) for x in await raised(store)] == [1, 1]


async def test_complaints_outside_the_window_and_praise_do_not_count(store: EventStore) -> None:
    runner = await started(store, ChurnPolicy(store))
    customer = History(store)
    await customer.says("complaint", day=1)
    await customer.says("complaint", day=50)
    await customer.says("complaint", day=120)  # the first is 119 days old by now
    await runner.catch_up()
    assert await raised(store) == ([], [])
    await customer.says("praise", day=121)
    await customer.says("complaint", day=122)  # 3 complaints in 90 days, minus one praise
    await runner.catch_up()
    assert await raised(store) == ([], [])
    await customer.says("complaint", day=123)
    await runner.catch_up()
    assert [len(x) for x in await raised(store)] == [1, 1]


async def test_correction_to_complaint_can_cross(store: EventStore) -> None:
    runner = await started(store, ChurnPolicy(store))
    customer = History(store)
    await customer.says("complaint")
    await customer.says("complaint")
    await customer.says("neutral")
    await runner.catch_up()
    fix = ClassificationCorrected(message_position=10_003, label="complaint", by="anna")
    await store.append("classification-3", ANY, [NewEvent(fix)])
    await runner.catch_up()
    assert [len(x) for x in await raised(store)] == [1, 1]


async def test_risk_list_orders_by_risk_and_says_why(store: EventStore) -> None:
    policy = await started(store, ChurnPolicy(store))
    view = RiskList()
    projection = ProjectionRunner(store, view)
    await projection.prepare()
    angry, grumpy, happy = (
        History(store, "c-angry"),
        History(store, "c-grumpy"),
        History(store, "c-happy"),
    )
    for _ in range(3):
        await angry.says("complaint")
    await grumpy.says("complaint")
    await happy.says("praise")
    await policy.catch_up()
    await projection.catch_up()
    async with store.db.read() as conn:
        ranked = await view.ranked(conn)
    assert [r["contact_id"] for r in ranked] == ["c-angry", "c-grumpy"]
    assert ranked[0]["at_risk"] and len(ranked[0]["complaints"]) == 3
    assert ranked[0]["reason"] == "3 complaints in 90 days"

    await angry.acknowledged("kind letter sent")
    await projection.catch_up()
    async with store.db.read() as conn:
        ranked = await view.ranked(conn)
    assert [r["contact_id"] for r in ranked] == ["c-grumpy"]


async def test_a_process_taking_churn_back_over_reads_what_another_did_meanwhile(
    make_store,  # type: ignore[no-untyped-def]
) -> None:
    """Two processes share the churn policy by lease: each starts from the log, not memory."""
    here, there = await make_store(), await make_store()
    history = History(here)
    mine = ChurnPolicy(here)  # the policy object lives as long as this process
    await history.says("complaint")
    first = PolicyRunner(here, mine)
    await first.bring_up_to_date()
    await history.says("complaint")  # meanwhile another process kept the policy
    await PolicyRunner(there, ChurnPolicy(there)).bring_up_to_date()
    await history.says("complaint")
    back = PolicyRunner(here, mine)  # this process takes it back, with its old memory
    await back.bring_up_to_date()
    risks, tasks = await raised(here)
    assert [r.contact_id for r in risks] == ["c-1"] and len(tasks) == 1
