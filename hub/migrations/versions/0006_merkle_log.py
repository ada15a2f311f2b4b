"""The Merkle log over the events: leaves, compact range, signed heads, timestamps
(hub/proofs). Leaves and heads are append-only by trigger, as the events are.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("merkle_leaves", "merkle_heads", "merkle_timestamps")


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_{op_} BEFORE {op_.upper()} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_.upper()} refused'); END"""
        for op_ in ("update", "delete")
    ]


def _postgres_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION merkle_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION merkle_append_only()""",
    ]


def upgrade() -> None:
    op.create_table(
        "merkle_leaves",
        sa.Column("leaf_index", Position, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, nullable=False, unique=True),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.Column("blobs", sa.Text, nullable=False),
    )
    op.create_table(
        "merkle_state",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "merkle_heads",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("head", sa.Text, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "merkle_timestamps",
        sa.Column("head_id", Position, primary_key=True, autoincrement=False),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("tsa_url", sa.Text, nullable=False),
        sa.Column("gen_time", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        statements = [s for t in APPEND_ONLY for s in _sqlite_triggers(t)]
    else:
        statements = [
            """CREATE FUNCTION merkle_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
               END $$""",
            *(s for t in APPEND_ONLY for s in _postgres_triggers(t)),
        ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    for table in ("merkle_timestamps", "merkle_heads", "merkle_state", "merkle_leaves"):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION merkle_append_only()")
