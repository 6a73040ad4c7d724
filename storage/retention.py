"""Retention: delete delivered notifications and old webhook deliveries, a small batch at a time.

What goes, once older than the cutoff:

* outbox rows that were **sent** (by ``finished_at``); pending rows are never touched, and failed
  rows stay so an admin can still see and retry them;
* replay-guard claims of Slack deliveries (``slack-event:``, ``slack-command:``,
  ``slack-envelope:`` keys, by ``claimed_at``): they only matter within Slack's retry and
  signature windows (an hour at most), so the job passes a cutoff of a day, not the
  retention window. Button claims (one-shot actions) are kept: a spent button must keep
  saying who used it;
* webhook deliveries (by ``received_at``) that are no longer ``queued`` and have no outbox row
  left. Their ``dedupe_key`` goes with them, so a provider replaying an event older than the
  retention window would be taken as new: keep the window longer than any provider's retry
  window (3 days at most; the default is 30).

The audit log is never pruned here. Each batch is its own short transaction (on SQLite a
``BEGIN IMMEDIATE`` held for a few milliseconds), so webhook intake interleaves with pruning
instead of waiting behind one long delete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Delete, delete, exists, func, or_, select
from sqlmodel import col

from storage.coordination import ActionClaim
from storage.db import Database
from storage.outbox import SENT, OutboxRow
from storage.webhooks import QUEUED, WebhookDelivery

#: Claim keys of Slack deliveries run once by the replay guard and the Socket Mode handler.
DELIVERY_CLAIM_PREFIXES = ("slack-event:", "slack-command:", "slack-envelope:")


class RetentionStore:
    """Batched deletes of expired rows (every method is one transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def prune_sent_outbox(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` outbox rows sent before ``cutoff``; returns how many."""
        batch = (
            select(col(OutboxRow.id))
            .where(col(OutboxRow.status) == SENT, col(OutboxRow.finished_at) < cutoff)
            .order_by(col(OutboxRow.finished_at))
            .limit(limit)
        )
        return await self._delete(
            delete(OutboxRow).where(col(OutboxRow.id).in_(batch.scalar_subquery()))
        )

    async def prune_deliveries(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` settled webhook deliveries received before ``cutoff``."""
        has_outbox = exists().where(col(OutboxRow.delivery_id) == col(WebhookDelivery.id))
        batch = (
            select(col(WebhookDelivery.id))
            .where(
                col(WebhookDelivery.received_at) < cutoff,
                col(WebhookDelivery.outcome) != QUEUED,
                ~has_outbox,
            )
            .order_by(col(WebhookDelivery.received_at))
            .limit(limit)
        )
        return await self._delete(
            delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(batch.scalar_subquery()))
        )

    async def prune_delivery_claims(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` Slack delivery claims made before ``cutoff``."""
        key = col(ActionClaim.claim_key)
        batch = (
            select(key)
            .where(
                or_(*(key.startswith(prefix) for prefix in DELIVERY_CLAIM_PREFIXES)),
                col(ActionClaim.claimed_at) < cutoff,
            )
            .limit(limit)
        )
        return await self._delete(delete(ActionClaim).where(key.in_(batch.scalar_subquery())))

    async def _delete(self, statement: Delete) -> int:
        async with self.db.session() as session:
            connection = await session.connection()
            result = await connection.execute(statement)
            return int(result.rowcount or 0)

    async def row_counts(self) -> dict[str, int]:
        """Rows in the pruned tables (for the benchmark and diagnostics)."""
        async with self.db.read() as conn:
            outbox = (await conn.execute(select(func.count()).select_from(OutboxRow))).scalar()
            deliveries = (
                await conn.execute(select(func.count()).select_from(WebhookDelivery))
            ).scalar()
        return {"outbox": int(outbox or 0), "webhook_deliveries": int(deliveries or 0)}
