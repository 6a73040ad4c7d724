"""Video deletes waiting out their undo window.

Revision ID: 0014
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_deletes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_uuid", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_by", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_pending_deletes_state_due", "pending_deletes", ["state", "due_at"])
    op.create_index("ix_pending_deletes_media_uuid", "pending_deletes", ["media_uuid"])


def downgrade() -> None:
    op.drop_index("ix_pending_deletes_media_uuid", table_name="pending_deletes")
    op.drop_index("ix_pending_deletes_state_due", table_name="pending_deletes")
    op.drop_table("pending_deletes")
