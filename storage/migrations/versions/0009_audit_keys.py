"""Audit log: keyed rows and signed checkpoints.

Adds nullable columns, so every row and checkpoint written before the key
stays readable and verifies as before (reported as unkeyed):

- ``audit_entries.key_id``: which key authenticated the row;
- ``audit_entries.mac``: HMAC-SHA256 over the row's sequence number, key id,
  newest known checkpoint and hash;
- ``audit_entries.checkpoint_id``: the newest checkpoint committed before the
  row (so deleting checkpoints is visible from the rows);
- ``audit_checkpoints.key_id``, ``signature``: the checkpoint's HMAC signature;
- ``audit_checkpoints.unkeyed_until``: the last row written without a key,
  so stripping the key from later rows is visible.

Revision ID: 0009
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
        batch.add_column(sa.Column("checkpoint_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(64), nullable=True))
        batch.add_column(sa.Column("unkeyed_until", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("unkeyed_until")
        batch.drop_column("signature")
        batch.drop_column("key_id")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("checkpoint_id")
        batch.drop_column("mac")
        batch.drop_column("key_id")
