"""Streampixel known builds, rate slots and queued distributions.

Revision ID: 0007
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_builds",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("upload_id", sa.String(64), primary_key=True),
        sa.Column("file_url", sa.Text(), nullable=True),
        sa.Column("auto_release", sa.Boolean(), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.String(64), nullable=True),
        sa.Column("last_status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("objection", sa.Text(), nullable=True),
    )
    op.create_table(
        "rate_slots",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("action", sa.String(32), primary_key=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "queued_distributions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("upload_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_queued_distributions_project_id", "queued_distributions", ["project_id"])
    op.create_index("ix_queued_distributions_run_at", "queued_distributions", ["run_at"])
    op.create_index("ix_queued_distributions_state", "queued_distributions", ["state"])


def downgrade() -> None:
    op.drop_table("queued_distributions")
    op.drop_table("rate_slots")
    op.drop_table("known_builds")
