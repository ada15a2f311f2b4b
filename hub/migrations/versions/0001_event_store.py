"""The event store: events (append-only by trigger), subject keys, projection checkpoints.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'events are append-only: % refused', TG_OP; END $$""",
    """CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION events_append_only()""",
    """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
       FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()""",
    # Live delivery across processes: one notification per committed insert statement,
    # sent by the database itself so no writer can forget it. The payload is the schema,
    # so several Kartei schemas in one database do not wake each other's readers.
    """CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_notify('kartei_events', current_schema()); RETURN NULL; END $$""",
    """CREATE TRIGGER events_notify AFTER INSERT ON events
       FOR EACH STATEMENT EXECUTE FUNCTION events_notify()""",
    # The first step of every append, in one round trip: take the append lock, then read
    # the head, the stream's version and the positions of already stored keys. A VOLATILE
    # function takes a fresh snapshot per statement, so the reads see every append that
    # committed before the lock was granted (a plain SELECT calling the lock would read
    # with the snapshot taken before it waited).
    """CREATE FUNCTION events_append_state(p_lock bigint, p_stream text, p_keys text[])
       RETURNS TABLE(kind text, key text, n bigint) LANGUAGE plpgsql VOLATILE AS $$
       BEGIN
         PERFORM pg_advisory_xact_lock(p_lock);
         RETURN QUERY
           SELECT 'head', NULL::text, coalesce(max(e.position), 0)::bigint FROM events e
           UNION ALL
           SELECT 'version', NULL::text, coalesce(max(e.version), 0)::bigint
             FROM events e WHERE e.stream = p_stream
           UNION ALL
           SELECT 'key', e.idempotency_key, e.position::bigint
             FROM events e WHERE e.idempotency_key = ANY(p_keys);
       END $$""",
]


def upgrade() -> None:
    op.create_table(
        "events",
        # Positions are assigned by the appender while it holds the append lock (no
        # sequence): they are gap-free and in commit order.
        sa.Column("position", Position, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("stream", "version", name="uq_events_stream_version"),
        sa.UniqueConstraint("idempotency_key", name="uq_events_idempotency_key"),
    )
    op.create_index("ix_events_type", "events", ["type", "position"])
    op.create_table(
        "subject_keys",
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", Position, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "projection_failures",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", Position, primary_key=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the event log is never dropped by a migration")
