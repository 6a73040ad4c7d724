"""StreamAPI request-id marks, one row per API key (keyed by its SHA-256).

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "streamapi_rid",
        sa.Column("key_sha256", sa.String(64), primary_key=True),
        sa.Column("last_rid", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("streamapi_rid")
