"""The Merkle log's tables (created by migrations 0006 and 0008; never by a projection,
so `kartei rebuild` cannot drop them: their blob hashes were read while the keys existed,
and the stored nodes are written with the leaves, by the follower only)."""

from __future__ import annotations

import sqlalchemy as sa

from hub.sql import UtcDateTime
from hub.store.schema import Position, metadata

# One row per logged event, in position order: leaf_index is the leaf's place in the tree.
merkle_leaves = sa.Table(
    "merkle_leaves",
    metadata,
    sa.Column("leaf_index", Position, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False, unique=True),
    sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
    sa.Column("blobs", sa.Text, nullable=False),  # "locator stored-sha256" lines
)

# The roots of complete aligned blocks of 2**level leaves (levels merkle.STORED_LEVELS),
# written with the leaf that completes them: a proof reads a few hundred of these and
# of the leaves instead of every leaf. `kartei archive verify` recomputes each one.
merkle_nodes = sa.Table(
    "merkle_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("node_index", Position, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)

# The tree's compact range after its last leaf (one row): appends need no old leaves.
merkle_state = sa.Table(
    "merkle_state",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Signed tree heads: `head` is the exact signed text (see hub/proofs/heads.py).
merkle_heads = sa.Table(
    "merkle_heads",
    metadata,
    sa.Column("id", Position, primary_key=True, autoincrement=True),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("root", sa.LargeBinary, nullable=False),
    sa.Column("head", sa.Text, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("signed_at", UtcDateTime, nullable=False),
)

# RFC 3161 timestamp tokens over heads (added when a TSA answers, possibly much later).
merkle_timestamps = sa.Table(
    "merkle_timestamps",
    metadata,
    sa.Column("head_id", Position, primary_key=True, autoincrement=False),
    sa.Column("token", sa.LargeBinary, nullable=False),
    sa.Column("tsa_url", sa.Text, nullable=False),
    sa.Column("gen_time", UtcDateTime, nullable=False),
)
