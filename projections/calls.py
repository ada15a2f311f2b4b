"""The call log, and the numbers that called, were missed, and are still owed a call back.

Which contact a number belongs to is not stored here (it can change when a contact gains
a number); the unknown-missed list asks the identity index when it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.events import Recorded
from hub.events.calls import CallAnswered, CallEnded, CallPlaced, CallRinging, MissedCallSeen
from hub.sql import UtcDateTime, dialect_insert


class NumberIndex(Protocol):
    async def lookup_number(self, conn: AsyncConnection, raw: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class MissedNumber:
    """A number whose calls were missed and that nobody has spoken to since."""

    number: str
    missed: int
    last_missed_at: datetime
    last_stream: str


class CallLog:
    """Every call (projection "calls") and the open missed calls per number."""

    name = "calls"
    # 2: seen_by, seen_at (missed calls marked seen); 3: moments stored in UTC (SQLite
    # kept a FRITZ!Box's local wall-clock digits and read them back as UTC)
    version = 3
    event_types = ("CallRinging", "CallPlaced", "CallAnswered", "CallEnded", "MissedCallSeen")
    tables = sa.MetaData()
    calls = sa.Table(
        "calls",
        tables,
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # ringing, answered, ended
        sa.Column("cause", sa.Text),
        sa.Column("number", sa.Text, index=True),
        sa.Column("number_raw", sa.Text, nullable=False, server_default=""),
        sa.Column("caller_name", sa.Text, nullable=False, server_default=""),
        sa.Column("line", sa.Text, nullable=False, server_default=""),
        sa.Column("extension", sa.Text),
        sa.Column("started_at", UtcDateTime),
        sa.Column("answered_at", UtcDateTime),
        sa.Column("ended_at", UtcDateTime),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("recorded_at", UtcDateTime, nullable=False, index=True),
        sa.Column("seen_by", sa.Text),  # who marked the missed call seen
        sa.Column("seen_at", UtcDateTime),
    )
    missed = sa.Table(
        "calls_missed_numbers",
        tables,
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("missed", sa.Integer, nullable=False),
        sa.Column("last_missed_at", UtcDateTime, nullable=False),
        sa.Column("last_stream", sa.Text, nullable=False),
    )

    async def apply(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        for r in batch:
            match r.event:
                case CallRinging() as e:
                    await self._started(conn, r, "inbound", e.caller, e.caller_raw, e.caller_name)
                case CallPlaced() as e:
                    await self._started(conn, r, "outbound", e.callee, e.callee_raw, "")
                case CallAnswered() as e:
                    await self._answered(conn, r, e)
                case CallEnded() as e:
                    await self._ended(conn, r, e)
                case MissedCallSeen() as e:
                    seen = {"seen_by": e.by or "", "seen_at": r.recorded_at}
                    where = self.calls.c.stream == r.stream
                    await conn.execute(sa.update(self.calls).where(where).values(**seen))

    async def _started(
        self,
        conn: AsyncConnection,
        r: Recorded,
        direction: str,
        number: str | None,
        raw: str,
        name: str,
    ) -> None:
        e = r.event
        assert isinstance(e, CallRinging | CallPlaced)
        values = {
            "number": number,
            "number_raw": raw,
            "caller_name": name,
            "line": e.line,
            "started_at": e.at or r.recorded_at,
        }
        stmt = dialect_insert(conn, self.calls).values(
            **self._row(r, direction, "ringing"), **values, extension=e.extension
        )
        # A late ring after the hang-up fills in what it knows; the status stays.
        await conn.execute(stmt.on_conflict_do_update(index_elements=["stream"], set_=values))

    async def _answered(self, conn: AsyncConnection, r: Recorded, e: CallAnswered) -> None:
        c = self.calls.c
        at = e.at or r.recorded_at
        stmt = dialect_insert(conn, self.calls).values(
            **self._row(r, e.direction, "answered"), answered_at=at, extension=e.extension
        )
        status = sa.case((c.status == "ended", c.status), else_=sa.literal("answered"))
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["stream"],
                set_={
                    "status": status,
                    "answered_at": at,
                    "extension": sa.func.coalesce(stmt.excluded.extension, c.extension),
                },
            )
        )

    async def _ended(self, conn: AsyncConnection, r: Recorded, e: CallEnded) -> None:
        c = self.calls.c
        values = {
            "cause": e.cause,
            "duration_seconds": e.duration_seconds,
            "ended_at": e.at or r.recorded_at,
        }
        stmt = dialect_insert(conn, self.calls).values(
            **self._row(r, e.direction, "ended"),
            **values,
            number=e.number,
            number_raw=e.number_raw,
            line=e.line,
            extension=e.extension,
            started_at=e.started_at,
            answered_at=e.answered_at,
        )
        fill = {k: sa.func.coalesce(c[k], stmt.excluded[k]) for k in ("number", "answered_at")}
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["stream"], set_={"status": "ended", **values, **fill}
            )
        )
        if e.number and e.missed:
            await self._missed_from(conn, e.number, e.at or r.recorded_at, r.stream)
        elif e.number and e.cause == "answered":
            # Somebody spoke to them (they called again, or we called back): settled.
            await conn.execute(sa.delete(self.missed).where(self.missed.c.number == e.number))

    async def _missed_from(
        self, conn: AsyncConnection, number: str, at: datetime, stream: str
    ) -> None:
        m = self.missed.c
        stmt = dialect_insert(conn, self.missed).values(
            number=number, missed=1, last_missed_at=at, last_stream=stream
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["number"],
                set_={"missed": m.missed + 1, "last_missed_at": at, "last_stream": stream},
            )
        )

    def _row(self, r: Recorded, direction: str, status: str) -> dict[str, Any]:
        e = r.event
        assert isinstance(e, CallRinging | CallPlaced | CallAnswered | CallEnded)
        return {
            "stream": r.stream,
            "call_id": e.call_id,
            "source": e.source,
            "direction": direction,
            "status": status,
            "recorded_at": r.recorded_at,
        }

    # -- queries ------------------------------------------------------------------

    async def recent(self, conn: AsyncConnection, limit: int = 100) -> list[dict[str, Any]]:
        """The newest calls first."""
        query = sa.select(self.calls).order_by(self.calls.c.recorded_at.desc()).limit(limit)
        return [dict(row._mapping) for row in await conn.execute(query)]

    async def unknown_missed(
        self, conn: AsyncConnection, index: NumberIndex, limit: int = 100
    ) -> list[MissedNumber]:
        """Missed numbers no contact has, not spoken to since: the follow-up list."""
        m = self.missed.c
        rows = await conn.execute(sa.select(self.missed).order_by(m.last_missed_at.desc()))
        found: list[MissedNumber] = []
        for row in rows.all():
            if await index.lookup_number(conn, row.number) is None:
                found.append(MissedNumber(**row._mapping))
                if len(found) >= limit:
                    break
        return found
