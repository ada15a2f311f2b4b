"""The record of the daily jobs' runs: one row per job and day of the firm, in the
database, so "has today's backup happened" survives a restart and a lease handover.

A run is claimed before the job starts and marked finished when it returns. A day with a
finished run is not run again, whichever process asks and whatever its clock says since.
While the job runs, its process writes a heartbeat into the claim every
`heartbeat_seconds`; a claim whose heartbeat is older than `stale_seconds` belongs to a
process that died or hangs. An unfinished claim may be claimed again only then, or at
once when its job raised (`abandon`): the next holder of the scheduler's lease does not
start a job that the process which lost the lease is still running (a backup in a
thread, which no cancellation stops). Heartbeats are judged by the database's clock on
PostgreSQL, as leases are (hub/store/leases.py), so a process whose clock is wrong does
not take a run that is alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.database import Database

HEARTBEAT_SECONDS = 5.0  # how often a running job's claim is refreshed
# A claim not refreshed for this long is taken over: six missed heartbeats, and the
# default [cluster] takeover_seconds, after which the scheduler's lease changes hands too.
STALE_SECONDS = 30.0

metadata = sa.MetaData()

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("job", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),  # the firm's day the run belongs to
    sa.Column("owner", sa.Text, nullable=False),  # the process (hub/store/leases.py)
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    # The running job's last sign of life (migration 0010); None: nobody runs it.
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True, slots=True)
class Run:
    """A day's run of a job as recorded: who claimed it, whether it finished, whether
    its process is still running it (a fresh heartbeat)."""

    owner: str
    finished: bool
    alive: bool


class JobRuns:
    """The runs of daily jobs, as one process (`owner`) claims and finishes them."""

    def __init__(
        self,
        db: Database,
        owner: str,
        *,
        heartbeat_seconds: float | None = None,
        stale_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.owner = owner
        self.heartbeat_seconds = heartbeat_seconds or HEARTBEAT_SECONDS
        self.stale_seconds = stale_seconds or STALE_SECONDS

    async def claim(self, job: str, day: date) -> bool:
        """Takes the day's run of `job` for this process; False when it has finished or
        another run of it is alive (in any process, this one included)."""
        insert = (sqlite if self.db.is_sqlite else postgresql).insert(job_runs)
        async with self.db.write() as conn:
            now = await _now(conn, self.db)
            claimed = {"owner": self.owner, "started_at": now, "heartbeat_at": now}
            statement = insert.values(job=job, day=day, **claimed)
            statement = statement.on_conflict_do_update(
                index_elements=[job_runs.c.job, job_runs.c.day],
                set_=claimed,
                where=job_runs.c.finished_at.is_(None) & self._quiet(now),
            )
            # A row comes back when inserted, or taken over (the update's where held).
            taken = await conn.execute(statement.returning(job_runs.c.owner))
            return taken.first() is not None

    async def beat(self, job: str, day: date) -> bool:
        """Refreshes this process's claim of a running job; False when another process
        has taken it over (this one's heartbeat went stale: it hung, or lost the database)."""
        async with self.db.write(durable=False) as conn:
            now = await _now(conn, self.db)
            result = await conn.execute(self._mine(job, day).values(heartbeat_at=now))
        return result.rowcount == 1

    async def finish(self, job: str, day: date) -> None:
        """Marks the day's run of `job` done: no process runs it again."""
        async with self.db.write() as conn:
            now = await _now(conn, self.db)
            await conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.job == job, job_runs.c.day == day)
                .values(owner=self.owner, finished_at=now, heartbeat_at=None)
            )

    async def abandon(self, job: str, day: date) -> None:
        """Leaves this process's unfinished claim to the next try at once (its job raised:
        nothing runs it any more)."""
        async with self.db.write() as conn:
            await conn.execute(self._mine(job, day).values(heartbeat_at=None))

    async def run(self, job: str, day: date) -> Run | None:
        """The day's run of `job` as recorded, or None when none was claimed."""
        async with self.db.read() as conn:
            row = (await conn.execute(_run(job, day))).first()
            if row is None:
                return None
            now = await _now(conn, self.db)
        alive = row.heartbeat_at is not None and row.heartbeat_at >= self._stale_before(now)
        return Run(row.owner, row.finished_at is not None, row.finished_at is None and alive)

    async def latest_day(self, job: str) -> date | None:
        """The latest day for which a run of `job` was claimed; None: it never ran here."""
        async with self.db.read() as conn:
            day = await conn.scalar(sa.select(sa.func.max(job_runs.c.day)).where(_of(job)))
        return day

    async def interrupted(self, job: str, day: date) -> bool:
        """Whether the day's run of `job` started and never finished."""
        run = await self.run(job, day)
        return run is not None and not run.finished

    def _quiet(self, now: datetime) -> sa.ColumnElement[bool]:
        beat = job_runs.c.heartbeat_at
        return beat.is_(None) | (beat < self._stale_before(now))

    def _stale_before(self, now: datetime) -> datetime:
        stale = now - timedelta(seconds=self.stale_seconds)
        # SQLite returns the stored times without their zone (all are UTC).
        return stale.replace(tzinfo=None) if self.db.is_sqlite else stale

    def _mine(self, job: str, day: date) -> sa.Update:
        return sa.update(job_runs).where(
            _of(job),
            job_runs.c.day == day,
            job_runs.c.owner == self.owner,
            job_runs.c.finished_at.is_(None),
        )


async def _now(conn: AsyncConnection, db: Database) -> datetime:
    """The database's clock on PostgreSQL (see the module's note); SQLite is one file on
    one host, whose clock every process shares."""
    if db.is_sqlite:
        return datetime.now(UTC)
    now = await conn.scalar(sa.select(sa.func.clock_timestamp()))
    assert isinstance(now, datetime)
    return now


def _of(job: str) -> sa.ColumnElement[bool]:
    return job_runs.c.job == job


def _run(job: str, day: date) -> sa.Select[tuple[str, datetime | None, datetime | None]]:
    return sa.select(job_runs.c.owner, job_runs.c.finished_at, job_runs.c.heartbeat_at).where(
        _of(job), job_runs.c.day == day
    )
