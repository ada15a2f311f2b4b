"""The append-state function takes several streams, for batched appends across streams.

Revision ID: 0002
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Same contract as 0001's function (take the append lock, then read with a fresh snapshot),
# for many streams: one 'version' row per stream that has events, its name in `key`.
APPEND_STATE = """
CREATE FUNCTION events_append_state(p_lock bigint, p_streams text[], p_keys text[])
  RETURNS TABLE(kind text, key text, n bigint) LANGUAGE plpgsql VOLATILE AS $$
  BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    RETURN QUERY
      SELECT 'head', NULL::text, coalesce(max(e.position), 0)::bigint FROM events e
      UNION ALL
      SELECT 'version', e.stream, max(e.version)::bigint
        FROM events e WHERE e.stream = ANY(p_streams) GROUP BY e.stream
      UNION ALL
      SELECT 'key', e.idempotency_key, e.position::bigint
        FROM events e WHERE e.idempotency_key = ANY(p_keys);
  END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_append_state(bigint, text, text[])")
        op.execute(APPEND_STATE)


def downgrade() -> None:
    raise NotImplementedError("the event log is never dropped by a migration")
