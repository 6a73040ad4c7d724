"""PostgreSQL: NOTIFY streamops_outbox on every insert into the outbox (wakes every replica).

A statement-level trigger, so a multi-row insert sends one notification; it is
delivered when the inserting transaction commits. SQLite has no NOTIFY: the
in-process wake-up (``storage.outbox_wakeup``) covers the one process.

Revision ID: 0010c
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0010c"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION streamops_outbox_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('streamops_outbox', '');
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION streamops_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS streamops_outbox_notify()")
