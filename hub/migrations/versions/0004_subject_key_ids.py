"""Subject keys get an opaque id that sealed documents name instead of the subject.

A subject is an address or a phone number; naming it in every sealed event would keep it
in the log after the person is erased (hub/store/crypto.py, docs/privacy.md).

Revision ID: 0004
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0006"
branch_labels = None
depends_on = None


def _key_id(key: bytes) -> str:  # as hub.store.crypto.key_id, frozen here
    return hashlib.sha256(b"kartei-subject-key\0" + key).hexdigest()[:32]


def upgrade() -> None:
    with op.batch_alter_table("subject_keys") as batch:
        batch.add_column(sa.Column("key_id", sa.Text, nullable=True))
    keys = sa.table(
        "subject_keys",
        sa.column("subject", sa.Text),
        sa.column("key", sa.LargeBinary),
        sa.column("key_id", sa.Text),
    )
    bind = op.get_bind()
    for subject, key in bind.execute(sa.select(keys.c.subject, keys.c.key)).all():
        bind.execute(
            sa.update(keys).where(keys.c.subject == subject).values(key_id=_key_id(bytes(key)))
        )
    op.create_index("ix_subject_keys_key_id", "subject_keys", ["key_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_subject_keys_key_id", "subject_keys")
    with op.batch_alter_table("subject_keys") as batch:
        batch.drop_column("key_id")
