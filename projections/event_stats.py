"""How many events of each type the log holds, and when the last one arrived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.sql import dialect_insert


class EventStats:
    """Counts per event type: the log at a glance (`kartei events --stats`, dashboard)."""

    name = "event_stats"
    version = 1
    event_types = None
    tables = sa.MetaData()
    stats = sa.Table(
        "event_stats",
        tables,
        sa.Column("type", sa.Text, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last_position", sa.BigInteger, nullable=False),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=False),
    )

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        counts: dict[str, tuple[int, int, datetime]] = {}
        for r in batch:
            count, _, _ = counts.get(r.type_name, (0, 0, r.recorded_at))
            counts[r.type_name] = (count + 1, r.position, r.recorded_at)
        if not counts:
            return
        c = self.stats.c
        stmt = dialect_insert(conn, self.stats)
        stmt = stmt.on_conflict_do_update(
            index_elements=["type"],
            set_={
                "count": c.count + stmt.excluded.count,
                "last_position": stmt.excluded.last_position,
                "last_recorded_at": stmt.excluded.last_recorded_at,
            },
        )
        await conn.execute(
            stmt,
            [
                {"type": t, "count": n, "last_position": p, "last_recorded_at": at}
                for t, (n, p, at) in counts.items()
            ],
        )

    async def counts(self, conn: AsyncConnection) -> dict[str, int]:
        rows = await conn.execute(sa.select(self.stats.c.type, self.stats.c.count))
        return {t: n for t, n in rows}
