"""Heartbeats of the daily jobs' runs (hub/job_runs.py): the process running a job
refreshes its claim's heartbeat_at while the job runs, so the next holder of the
scheduler's lease leaves a run alone that the previous holder is still running. Runs
claimed before have none: an unfinished one is taken over, as before.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"  # 0009: the search index
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:  # SQLite rebuilds the table
        batch.drop_column("heartbeat_at")
