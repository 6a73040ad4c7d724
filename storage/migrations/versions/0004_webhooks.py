"""Webhook intake, the notification outbox, Slack pacing, subscriptions, live-session state.

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("project", sa.String(128), nullable=True),
        sa.Column("dedupe_key", sa.String(64), nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index(
        "ix_webhook_deliveries_provider_received",
        "webhook_deliveries",
        ["provider", "received_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_subject", "webhook_deliveries", ["provider", "subject", "event"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("result_ts", sa.String(32), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
    )
    op.create_index("ix_outbox_status_channel", "outbox", ["status", "channel", "id"])
    op.create_table(
        "notification_messages",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("subject_key", sa.String(200), primary_key=True),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "slack_pacing",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("next_allowed_at", _TS, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("events", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("channel", "provider", "project", name="uq_subscriptions_target"),
    )
    op.create_table(
        "live_sessions_seen",
        sa.Column("session_id", sa.String(128), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("went_live_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("live_sessions_seen")
    op.drop_table("subscriptions")
    op.drop_table("slack_pacing")
    op.drop_table("notification_messages")
    op.drop_index("ix_outbox_status_channel", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_webhook_deliveries_subject", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_provider_received", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
