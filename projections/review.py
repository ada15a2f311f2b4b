"""The classifier's labels and what staff said of them (projection "review").

One row per classified message: the model's latest label, how sure it was (the margin
between its two most probable labels) and, once staff corrected or confirmed it, their
label. From it come the "Bitte prüfen" queue (uncertainty sampling: the smallest margins
first, not yet checked) and the honest numbers of the classifier page (how many
corrections, how many since a model was trained).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.classification import ClassificationCorrected, MessageClassified
from hub.sql import UtcDateTime, upsert


def margin_of(scores: dict[str, float] | None, confidence: float) -> float:
    """Top probability minus the second (0: a coin toss, 1: certain)."""
    if not scores:
        return confidence  # events without per-label scores: the confidence is the best guess
    top = sorted(scores.values(), reverse=True)
    return round(top[0] - (top[1] if len(top) > 1 else 0.0), 4)


class ClassificationReview:
    """Labels, margins and corrections per classified message."""

    name = "review"
    version = 1
    event_types = ("MessageClassified", "ClassificationCorrected")
    tables = sa.MetaData()
    rows = sa.Table(
        "classification_review",
        tables,
        sa.Column("message_position", sa.BigInteger, primary_key=True),
        sa.Column("contact_id", sa.Text),
        sa.Column("label", sa.Text, nullable=False),  # the model's latest label
        sa.Column("margin", sa.Float, nullable=False, index=True),
        sa.Column("model_version", sa.Text, nullable=False),
        sa.Column("classified_position", sa.BigInteger, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),  # when the customer wrote
        sa.Column("corrected_label", sa.Text),
        sa.Column("corrected_by", sa.Text),
        sa.Column("corrected_position", sa.BigInteger, index=True),
    )

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        t = self.rows
        for r in batch:
            e = r.event
            if isinstance(e, MessageClassified):
                values = {
                    "message_position": e.message_position,
                    "contact_id": e.contact_id,
                    "label": e.label,
                    "margin": margin_of(e.scores, e.confidence),
                    "model_version": e.model_version,
                    "classified_position": r.position,
                    "at": _aware(e.message_at or r.recorded_at),
                }
                columns = [k for k in values if k != "message_position"]
                await conn.execute(upsert(conn, t, ["message_position"], columns), [values])
            elif isinstance(e, ClassificationCorrected):
                await conn.execute(
                    sa.update(t)
                    .where(t.c.message_position == e.message_position)
                    .values(
                        corrected_label=e.label,
                        corrected_by=e.by,
                        corrected_position=r.position,
                    )
                )

    async def to_check(self, conn: AsyncConnection, limit: int = 20) -> list[dict[str, Any]]:
        """Messages nobody checked yet, the ones the model is least sure of first."""
        t = self.rows
        query = (
            sa.select(t.c.message_position, t.c.contact_id, t.c.label, t.c.margin, t.c.at)
            .where(t.c.corrected_label.is_(None))
            .order_by(t.c.margin.asc(), t.c.message_position.desc())
            .limit(limit)
        )
        return [dict(row._mapping) for row in await conn.execute(query)]

    async def of(self, conn: AsyncConnection, positions: list[int]) -> dict[int, dict[str, Any]]:
        """Margin and staff label (if any) of messages, by position."""
        if not positions:
            return {}
        t = self.rows
        query = sa.select(t.c.message_position, t.c.margin, t.c.corrected_label).where(
            t.c.message_position.in_(positions)
        )
        return {row.message_position: dict(row._mapping) for row in await conn.execute(query)}

    async def counts(self, conn: AsyncConnection, since_position: int = 0) -> dict[str, int]:
        """Classified messages; corrections (or confirmations) in all, those after a
        position (e.g. where a model was trained), and those the model reads otherwise."""
        t = self.rows
        checked = t.c.corrected_label.is_not(None)
        query = sa.select(
            sa.func.count(),
            sa.func.count().filter(checked),
            sa.func.count().filter(checked, t.c.corrected_position > since_position),
            sa.func.count().filter(checked, t.c.corrected_label != t.c.label),
        )
        total, corrected, new, changed = (await conn.execute(query)).one()
        return {"classified": total, "checked": corrected, "new": new, "disagree": changed}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
