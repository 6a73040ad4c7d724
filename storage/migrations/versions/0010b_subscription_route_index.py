"""Subscriptions indexed by (provider, project): routing reads only what can match.

Revision ID: 0010b
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0010b"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_subscriptions_route", "subscriptions", ["provider", "project"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_route", table_name="subscriptions")
