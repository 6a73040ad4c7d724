"""One-shot action claims (button idempotency).

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_claims",
        sa.Column("claim_key", sa.String(255), primary_key=True),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("message", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("action_claims")
