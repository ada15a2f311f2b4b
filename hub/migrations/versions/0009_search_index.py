"""The timeline's message search index on SQLite is written once per projection batch
(projections/search.py, `IndexWrites`) instead of by a trigger per row: the insert and
update triggers of `timeline_text` go; the delete trigger stays (erasure deletes rows with
plain SQL). The index's content is unchanged, so nothing is rebuilt. PostgreSQL keeps its
pg_trgm GIN index, which no trigger feeds: nothing to do there.

The timeline's tables belong to the projection, which creates them on its first start:
on a database that has none yet this changes nothing.

Revision ID: 0009
"""

from alembic import op

revision = "0009"
down_revision = "0008"  # 0008: stored Merkle nodes
branch_labels = None
depends_on = None

# As projections/search.py wrote them before, frozen here.
_TRIGGERS = {
    "timeline_text_ai": "CREATE TRIGGER IF NOT EXISTS timeline_text_ai AFTER INSERT ON "
    "timeline_text BEGIN INSERT INTO timeline_fts(rowid, body) VALUES (new.id, new.body); END",
    "timeline_text_au": "CREATE TRIGGER IF NOT EXISTS timeline_text_au AFTER UPDATE ON "
    "timeline_text BEGIN INSERT INTO timeline_fts(timeline_fts, rowid, body) VALUES "
    "('delete', old.id, old.body); INSERT INTO timeline_fts(rowid, body) "
    "VALUES (new.id, new.body); END",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'timeline_fts'"
    ).first():
        for ddl in _TRIGGERS.values():
            op.execute(ddl)
