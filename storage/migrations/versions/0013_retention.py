"""Indexes for retention and the operations views: sent outbox rows by finish time, outbox rows
by delivery, webhook deliveries by receive time.

Revision ID: 0013
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_status_finished", "outbox", ["status", "finished_at"])
    op.create_index("ix_outbox_delivery", "outbox", ["delivery_id"])
    op.create_index("ix_webhook_deliveries_received", "webhook_deliveries", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_received", table_name="webhook_deliveries")
    op.drop_index("ix_outbox_delivery", table_name="outbox")
    op.drop_index("ix_outbox_status_finished", table_name="outbox")
