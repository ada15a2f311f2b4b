"""The kernel's tables. Alembic creates them (hub/migrations); queries use these objects."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Positions are BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid.
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", Position, primary_key=True, autoincrement=False),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    # Payloads are stored as JSON text: the store treats them as opaque documents
    # (personal fields inside are ciphertext anyway), and text keeps a corrupt payload
    # representable so readers can report it instead of the database hiding it.
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=True, unique=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("stream", "version", name="uq_events_stream_version"),
)

subject_keys = sa.Table(
    "subject_keys",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # What sealed documents name the key by (hub/store/crypto.py); migration 0004.
    sa.Column("key_id", sa.Text),
)

projection_checkpoints = sa.Table(
    "projection_checkpoints",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", Position, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

projection_failures = sa.Table(
    "projection_failures",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", Position, primary_key=True),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

# Who owns a projection or policy (later also a mailbox or phone line): one row per name,
# renewed by its owner before `expires_at` (seconds since the epoch); see hub/store/leases.py.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
