"""The record of the daily jobs' runs: one row per job and day of the firm, in the
database, so "has today's backup happened" survives a restart and a lease handover.

A run is claimed before the job starts and marked finished when it returns. A day with a
finished run is not run again, whichever process asks and whatever its clock says since.
A claimed run that never finished (its process died, or the job raised) may be claimed
again: by the next owner of the scheduler's lease, at once (see `interrupted`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from hub.store.database import Database

metadata = sa.MetaData()

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("job", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),  # the firm's day the run belongs to
    sa.Column("owner", sa.Text, nullable=False),  # the process (hub/store/leases.py)
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)


class JobRuns:
    """The runs of daily jobs, as one process (`owner`) claims and finishes them."""

    def __init__(self, db: Database, owner: str) -> None:
        self.db = db
        self.owner = owner

    async def claim(self, job: str, day: date) -> bool:
        """Takes the day's run of `job` for this process; False when it has finished."""
        insert = (sqlite if self.db.is_sqlite else postgresql).insert(job_runs)
        now = datetime.now(UTC)
        statement = insert.values(job=job, day=day, owner=self.owner, started_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[job_runs.c.job, job_runs.c.day],
            set_={"owner": self.owner, "started_at": now},
            where=job_runs.c.finished_at.is_(None),  # an unfinished run may be retried
        )
        async with self.db.write() as conn:
            await conn.execute(statement)
            row = (await conn.execute(_run(job, day))).one()
        return row.owner == self.owner and row.finished_at is None

    async def finish(self, job: str, day: date) -> None:
        """Marks the day's run of `job` done: no process runs it again."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.job == job, job_runs.c.day == day)
                .values(owner=self.owner, finished_at=datetime.now(UTC))
            )

    async def interrupted(self, job: str, day: date) -> bool:
        """Whether the day's run of `job` started and never finished."""
        async with self.db.read() as conn:
            row = (await conn.execute(_run(job, day))).first()
        return row is not None and row.finished_at is None


def _run(job: str, day: date) -> sa.Select[tuple[str, datetime | None]]:
    return sa.select(job_runs.c.owner, job_runs.c.finished_at).where(
        job_runs.c.job == job, job_runs.c.day == day
    )
