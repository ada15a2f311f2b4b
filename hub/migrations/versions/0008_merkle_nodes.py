"""Stored Merkle nodes: the roots of every complete aligned block of 256 and of 65,536
leaves, so a proof reads a few hundred hashes instead of every leaf (hub/proofs/log.py).
Append-only by trigger, as the leaves; the nodes of a log that already has leaves are
computed here from them, in the migration's transaction (1.3 s of CPU a million leaves).

Revision ID: 0008
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"  # 0007: job runs
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LEVELS = (8, 16)  # as hub.proofs.merkle.STORED_LEVELS, frozen here
PAGE = 1 << 16  # leaves read at a time: one level-16 block


def _perfect_root(hashes: list[bytes]) -> bytes:  # RFC 6962 MTH of 2**k hashed leaves
    while len(hashes) > 1:
        hashes = [
            hashlib.sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest()
            for i in range(0, len(hashes), 2)
        ]
    return hashes[0]


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("node_index", Position, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        statements = [
            f"""CREATE TRIGGER merkle_nodes_no_{op_} BEFORE {op_.upper()} ON merkle_nodes
                BEGIN SELECT RAISE(ABORT, 'merkle_nodes is append-only: {op_.upper()} refused');
                END"""
            for op_ in ("update", "delete")
        ]
    else:  # merkle_append_only() came with 0006
        statements = [
            """CREATE TRIGGER merkle_nodes_no_change BEFORE UPDATE OR DELETE ON merkle_nodes
               FOR EACH ROW EXECUTE FUNCTION merkle_append_only()""",
            """CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
               FOR EACH STATEMENT EXECUTE FUNCTION merkle_append_only()""",
        ]
    for statement in statements:
        op.execute(statement)
    _fill(bind)


def _fill(bind: sa.Connection) -> None:
    """The nodes of every complete block of the leaves logged before this migration."""
    leaves = sa.table(
        "merkle_leaves", sa.column("leaf_index", Position), sa.column("leaf_hash", sa.LargeBinary)
    )
    nodes = sa.table(
        "merkle_nodes",
        sa.column("level", sa.SmallInteger),
        sa.column("node_index", Position),
        sa.column("hash", sa.LargeBinary),
    )
    start = 0
    while True:
        hashes = [
            bytes(h)
            for h in bind.execute(
                sa.select(leaves.c.leaf_hash)
                .where(leaves.c.leaf_index >= start, leaves.c.leaf_index < start + PAGE)
                .order_by(leaves.c.leaf_index)
            ).scalars()
        ]
        chunks = [_perfect_root(hashes[i : i + 256]) for i in range(0, len(hashes) - 255, 256)]
        rows = [
            {"level": LEVELS[0], "node_index": (start >> 8) + i, "hash": h}
            for i, h in enumerate(chunks)
        ]
        if len(chunks) == PAGE >> 8:
            rows.append(
                {"level": LEVELS[1], "node_index": start >> 16, "hash": _perfect_root(chunks)}
            )
        if rows:
            bind.execute(sa.insert(nodes), rows)
        if len(hashes) < PAGE:
            return
        start += PAGE


def downgrade() -> None:
    op.drop_table("merkle_nodes")
