"""The risk list: which customers are about to leave, ordered by risk, and why.

`ContactRisk` is the pure churn rule over one contact's classified messages: complaints
within the window count, praise cancels some of them, a staff acknowledgement clears the
slate. The churn policy uses it to decide when a customer crosses the line; this
projection uses it to show every customer's standing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.classification import (
    ClassificationCorrected,
    CustomerAtRisk,
    MessageClassified,
    RiskAcknowledged,
)
from projections.risk_reason import Reason, remarks_of


@dataclass(frozen=True, slots=True)
class Rule:
    """By default: 3 complaints within 90 days; each praise cancels one."""

    complaints: int = 3
    window: timedelta = timedelta(days=90)
    praise_weight: float = 1.0
    min_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class Signal:
    """One classified message of the customer (keyed by the message's position)."""

    message_position: int
    classification_position: int
    label: str
    at: datetime


@dataclass
class ContactRisk:
    """One contact's standing under the churn rule."""

    contact_id: str
    signals: dict[int, Signal] = field(default_factory=dict)
    at_risk: bool = False
    raised_position: int | None = None
    cleared_after: int = 0  # acknowledged at this position: earlier signals no longer count
    acknowledged_comment: str = ""
    # Labels staff gave (message position -> label): they outlast a later model's reading.
    corrected: dict[int, str] = field(default_factory=dict)

    def counted(self, rule: Rule, now: datetime) -> list[Signal]:
        start = now - rule.window
        return sorted(
            (
                s
                for s in self.signals.values()
                if start <= s.at <= now and s.classification_position > self.cleared_after
            ),
            key=lambda s: s.at,
        )

    def complaints(self, rule: Rule, now: datetime) -> list[Signal]:
        return [s for s in self.counted(rule, now) if s.label == "complaint"]

    def score(self, rule: Rule, now: datetime) -> float:
        counted = self.counted(rule, now)
        praise = sum(1 for s in counted if s.label == "praise")
        complaints = sum(1 for s in counted if s.label == "complaint")
        return max(0.0, complaints - rule.praise_weight * praise)

    def why(self, rule: Rule, now: datetime) -> Reason:
        counted = self.counted(rule, now)
        complaints = sum(1 for s in counted if s.label == "complaint")
        praise = sum(1 for s in counted if s.label == "praise")
        return Reason(complaints, praise, rule.window.days)

    def reason(self, rule: Rule, now: datetime) -> str:
        """Why, in English (logs, the command line)."""
        return str(self.why(rule, now))

    def latest(self) -> datetime:
        """The contact's own clock: when they last wrote (windows are in message time)."""
        return max((s.at for s in self.signals.values()), default=datetime.min.replace(tzinfo=UTC))

    def observe(self, signal: Signal) -> None:
        label = self.corrected.get(signal.message_position)
        if label is not None:  # a new model's reading does not undo what staff said
            signal = Signal(
                signal.message_position, signal.classification_position, label, signal.at
            )
        self.signals[signal.message_position] = signal

    def correct(self, message_position: int, label: str) -> None:
        self.corrected[message_position] = label
        old = self.signals.get(message_position)
        if old is not None:
            self.signals[message_position] = Signal(
                old.message_position, old.classification_position, label, old.at
            )

    def crossed(self, rule: Rule, now: datetime) -> bool:
        """True once, when the score reaches the threshold while not already at risk."""
        if self.score(rule, now) < rule.complaints:
            self.at_risk = False  # praise or corrections lowered it: a new crossing may come
            return False
        return not self.at_risk

    def acknowledge(self, position: int, comment: str) -> None:
        self.at_risk = False
        self.cleared_after = position
        self.acknowledged_comment = comment

    def prune(self, rule: Rule, now: datetime) -> None:
        """Forgets signals too old to count again (keeps memory bounded)."""
        start = now - rule.window
        self.signals = {k: s for k, s in self.signals.items() if s.at >= start}
        self.corrected = {k: v for k, v in self.corrected.items() if k in self.signals}


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def signal_of(r: Recorded, rule: Rule) -> Signal | None:
    """The signal a MessageClassified gives, if it is about a known contact and sure enough."""
    e = r.event
    if not isinstance(e, MessageClassified) or e.contact_id is None:
        return None
    label = e.label if e.confidence >= rule.min_confidence else "neutral"
    return Signal(e.message_position, r.position, label, aware(e.message_at or r.recorded_at))


class RiskList:
    """Customers by churn risk, with the complaints behind it (projection "risk")."""

    name = "risk"
    # 2: reason_values (the reader's language); 3: corrections outlast a later model
    version = 3
    event_types = (
        "MessageClassified",
        "ClassificationCorrected",
        "CustomerAtRisk",
        "RiskAcknowledged",
    )
    tables = sa.MetaData()
    risks = sa.Table(
        "risk_list",
        tables,
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("at_risk", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),  # in English
        sa.Column("reason_values", sa.Text, nullable=False),  # JSON: Reason.values()
        sa.Column("complaints", sa.Text, nullable=False),  # JSON: classification positions
        sa.Column("state", sa.Text, nullable=False),  # JSON: the contact's signals
        sa.Column("raised_position", sa.BigInteger),
        sa.Column("acknowledged", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Where a message's classification went, so a correction finds its contact.
    messages = sa.Table(
        "risk_messages",
        tables,
        sa.Column("message_position", sa.BigInteger, primary_key=True),
        sa.Column("contact_id", sa.Text, nullable=False),
    )

    def __init__(self, rule: Rule | None = None) -> None:
        self.rule = rule or Rule()

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        for r in batch:
            contact_id = await self._contact_of(conn, r)
            if contact_id is None:
                continue
            risk = await self.load(conn, contact_id)
            self.step(risk, r)
            await self._save(conn, risk, aware(r.recorded_at))

    def step(self, risk: ContactRisk, r: Recorded) -> None:
        """What one event changes in a contact's standing."""
        e = r.event
        if isinstance(e, MessageClassified) and (signal := signal_of(r, self.rule)):
            risk.observe(signal)
            risk.crossed(self.rule, risk.latest())
        elif isinstance(e, ClassificationCorrected):
            risk.correct(e.message_position, e.label)
            risk.crossed(self.rule, risk.latest())
        elif isinstance(e, CustomerAtRisk):
            risk.at_risk, risk.raised_position = True, r.position
        elif isinstance(e, RiskAcknowledged):
            risk.acknowledge(r.position, e.comment)

    async def _contact_of(self, conn: AsyncConnection, r: Recorded) -> str | None:
        e = r.event
        if isinstance(e, MessageClassified):
            if e.contact_id is not None:
                await conn.execute(
                    sa.delete(self.messages).where(
                        self.messages.c.message_position == e.message_position
                    )
                )
                await conn.execute(
                    sa.insert(self.messages).values(
                        message_position=e.message_position, contact_id=e.contact_id
                    )
                )
            return e.contact_id
        if isinstance(e, ClassificationCorrected):
            query = sa.select(self.messages.c.contact_id).where(
                self.messages.c.message_position == e.message_position
            )
            return (await conn.execute(query)).scalar_one_or_none() or e.contact_id
        return getattr(e, "contact_id", None)

    async def load(self, conn: AsyncConnection, contact_id: str) -> ContactRisk:
        row = (
            await conn.execute(sa.select(self.risks).where(self.risks.c.contact_id == contact_id))
        ).first()
        if row is None:
            return ContactRisk(contact_id)
        state = orjson.loads(row.state)
        signals = {
            s[0]: Signal(s[0], s[1], s[2], datetime.fromisoformat(s[3])) for s in state["signals"]
        }
        return ContactRisk(
            contact_id,
            signals,
            row.at_risk,
            row.raised_position,
            state.get("cleared_after", 0),
            row.acknowledged,
            {int(k): v for k, v in state.get("corrected", {}).items()},
        )

    async def _save(self, conn: AsyncConnection, risk: ContactRisk, now: datetime) -> None:
        latest = risk.latest() if risk.signals else now
        risk.prune(self.rule, latest)
        state = {
            "signals": [
                [s.message_position, s.classification_position, s.label, s.at.isoformat()]
                for s in risk.signals.values()
            ],
            "cleared_after": risk.cleared_after,
            "corrected": {str(k): v for k, v in risk.corrected.items()},
        }
        complaints = [s.classification_position for s in risk.complaints(self.rule, latest)]
        why = risk.why(self.rule, latest)
        values = dict(
            at_risk=risk.at_risk,
            score=risk.score(self.rule, latest),
            reason=str(why),
            reason_values=orjson.dumps(why.values()).decode(),
            complaints=orjson.dumps(complaints).decode(),
            state=orjson.dumps(state).decode(),
            raised_position=risk.raised_position,
            acknowledged=risk.acknowledged_comment,
            updated_at=now,
        )
        await conn.execute(sa.delete(self.risks).where(self.risks.c.contact_id == risk.contact_id))
        await conn.execute(sa.insert(self.risks).values(contact_id=risk.contact_id, **values))

    async def ranked(self, conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
        """Customers at risk first, then by score; each with the reason (in English, and as
        `remarks` to say in the reader's language) and the complaints."""
        t = self.risks
        query = (
            sa.select(
                t.c.contact_id,
                t.c.at_risk,
                t.c.score,
                t.c.reason,
                t.c.reason_values,
                t.c.complaints,
                t.c.state,
                t.c.raised_position,
                t.c.acknowledged,
                t.c.updated_at,
            )
            .where(t.c.score > 0)
            .order_by(t.c.at_risk.desc(), t.c.score.desc(), t.c.updated_at.desc())
            .limit(limit)
        )
        rows = [{str(k): v for k, v in row._mapping.items()} for row in await conn.execute(query)]
        for row in rows:
            row["complaints"] = orjson.loads(row["complaints"])
            # The messages behind the flag (their positions), for pages that name them.
            message_of = {s[1]: s[0] for s in orjson.loads(row.pop("state"))["signals"]}
            row["messages"] = [message_of[c] for c in row["complaints"] if c in message_of]
            row["remarks"] = remarks_of(orjson.loads(row.pop("reason_values")))
        return rows
