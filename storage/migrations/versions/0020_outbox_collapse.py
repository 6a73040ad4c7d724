"""Outbox collapse and digest: rows folded into an earlier row of the same build/video, rows
already shown in a channel digest, and the pending-by-subject index the collapse probes.

Revision ID: 0020
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("collapsed_into", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("digest_ts", sa.String(32), nullable=True))
    op.create_index(
        "ix_outbox_pending_subject",
        "outbox",
        ["channel", "subject_key", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_subject", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("digest_ts")
        batch.drop_column("collapsed_into")
