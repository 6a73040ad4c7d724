"""The outbox lease index: pending rows only, by (channel, id).

The lease (``storage.outbox_lease``) probes, per channel, the oldest pending row;
a partial index on pending rows serves each probe with one ``LIMIT 1`` descent
and stays as small as the backlog (sent rows leave it). It replaces
``ix_outbox_status_channel``, which the old lease query used.

Revision ID: 0010
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["channel", "id"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.drop_index("ix_outbox_status_channel", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_status_channel", "outbox", ["status", "channel", "id"])
    op.drop_index("ix_outbox_pending", table_name="outbox")
