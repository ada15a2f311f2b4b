"""Whenever a customer's complaints cross the churn rule, flag them and open a kind-letter task.

The rule (projections/risk.py `ContactRisk`) by default: 3 complaints within 90 days.
CustomerAtRisk is raised once per crossing, not again for every further complaint; praise
lowers the count and RiskAcknowledged clears it, after which a new crossing raises again.
The standing is rebuilt from the log on start (up to the policy's checkpoint), so a
restart decides exactly as an uninterrupted run would; reactions carry keys derived from
their cause, so nothing is raised twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from hub.events import Metadata, NewEvent, Recorded
from hub.events.classification import ClassificationCorrected, CustomerAtRisk, MessageClassified
from hub.events.tasks import TaskOpened
from hub.policy import Reaction
from hub.store import EventStore
from hub.web.i18n import said
from projections.risk import ContactRisk, RiskList, Rule, aware, signal_of

OwnerOf = Callable[[str], Awaitable[str | None]]

TITLES = {
    "de": "Freundlichen Brief schreiben oder persönlich anrufen",
    "en": "Write a kind letter or call personally",
}


class ChurnPolicy:
    """Raises CustomerAtRisk and opens the kind-letter task for the contact's owner."""

    name = "churn"
    version = 1
    event_types = RiskList.event_types

    def __init__(
        self,
        store: EventStore,
        rule: Rule | None = None,
        *,
        owner_of: OwnerOf | None = None,
        default_owner: str | None = None,
        task_due: timedelta = timedelta(days=2),
        language: str = "de",
    ) -> None:
        self.store = store
        self.rule = rule or Rule()
        self._view = RiskList(self.rule)
        self._owner_of = owner_of
        self.default_owner = default_owner or None
        self.task_due = task_due
        self.title = TITLES.get(language, TITLES["en"])
        self.language = language if language in TITLES else "en"
        self._book: dict[str, ContactRisk] = {}
        self._contact_of_message: dict[int, str] = {}
        self._seen = -1  # the last position folded into the book

    def forget(self) -> None:
        """Starts over: the next batch rebuilds the book from the log (PolicyRunner calls
        this before it goes on from the stored checkpoint)."""
        self._seen = -1

    async def react(self, batch: Sequence[Recorded]) -> list[Reaction]:
        if not batch:
            return []
        if self._seen < 0 or batch[0].position <= self._seen:
            await self._rebuild(before=batch[0].position)  # first batch, or a retried one
        reactions: list[Reaction] = []
        for r in batch:
            reactions += await self._advance(r)
            self._seen = r.position
        return reactions

    async def _rebuild(self, before: int) -> None:
        self._book.clear()
        self._contact_of_message.clear()
        after = 0
        while after < before - 1:
            events = await self.store.read_all(after, 1000, types=self.event_types)
            events = [r for r in events if r.position < before]
            if not events:
                break
            for r in events:
                if (contact := self._contact(r)) is not None:
                    self._view.step(self._risk(contact), r)
            after = events[-1].position
        self._seen = before - 1

    async def _advance(self, r: Recorded) -> list[Reaction]:
        contact = self._contact(r)
        if contact is None:
            return []
        risk = self._risk(contact)
        e = r.event
        if isinstance(e, MessageClassified) and (signal := signal_of(r, self.rule)):
            risk.observe(signal)
        elif isinstance(e, ClassificationCorrected):
            risk.correct(e.message_position, e.label)
        else:
            self._view.step(risk, r)
            return []
        now = risk.latest()
        if not risk.crossed(self.rule, now):
            return []
        risk.at_risk = True
        risk.prune(self.rule, now)
        return await self._raise(risk, r, now)

    async def _raise(self, risk: ContactRisk, r: Recorded, now) -> list[Reaction]:  # type: ignore[no-untyped-def]
        owner = await self._owner_of(risk.contact_id) if self._owner_of else None
        owner = owner or self.default_owner
        complaints = tuple(s.classification_position for s in risk.complaints(self.rule, now))
        why = risk.why(self.rule, now)
        meta = Metadata(source="churn", causation_id=str(r.position))
        at_risk = CustomerAtRisk(
            contact_id=risk.contact_id,
            complaints=complaints,
            score=risk.score(self.rule, now),
            reason=str(why),
            owner=owner,
            reason_values=why.values(),
        )
        task_id = f"churn-{r.position}"
        task = TaskOpened(
            task_id=task_id,
            title=self.title,
            kind="kind_letter",
            contact_id=risk.contact_id,
            assignee=owner,
            due=aware(r.recorded_at) + self.task_due,
            reason=said(why.remarks(), self.language),  # a task's text is in the firm's language
            cause_position=r.position,
            dedupe_key=f"kind_letter:{risk.contact_id}",
        )
        return [
            Reaction(
                f"risk-{risk.contact_id}", NewEvent(at_risk, f"churn:risk:{r.position}", meta)
            ),
            Reaction(f"task-{task_id}", NewEvent(task, f"churn:task:{r.position}", meta)),
        ]

    def _contact(self, r: Recorded) -> str | None:
        e = r.event
        if isinstance(e, MessageClassified):
            if e.contact_id is not None:
                self._contact_of_message[e.message_position] = e.contact_id
            return e.contact_id
        if isinstance(e, ClassificationCorrected):
            return self._contact_of_message.get(e.message_position) or e.contact_id
        return getattr(e, "contact_id", None)

    def _risk(self, contact_id: str) -> ContactRisk:
        risk = self._book.get(contact_id)
        if risk is None:
            risk = self._book[contact_id] = ContactRisk(contact_id)
        return risk
