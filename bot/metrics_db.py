"""Queue depths for ``/metrics``, read from the shared database at scrape time.

Counters kept in memory would differ per replica; these describe the shared tables, so they are
read when Prometheus scrapes, at most once per ``ttl`` seconds per replica (several scrapers or
a fast scrape interval do not multiply the queries).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.metrics import Metrics
from storage.audit_models import AuditEntry
from storage.db import Database
from storage.operations import OperationsStore

#: Providers whose webhooks are tracked.
WEBHOOK_PROVIDERS = ("streampixel", "streamstack")


class QueueGauges:
    """Refreshes the database-backed gauges of ``metrics``.

    Args:
        db: the shared database.
        metrics: whose gauges to set.
        clock: the current time, timezone-aware.
        ttl: seconds a reading is reused.
        monotonic: the cache's clock (injected by tests).
    """

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime],
        ttl: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = OperationsStore(db)
        self.metrics = metrics
        self.clock = clock
        self.ttl = ttl
        self.monotonic = monotonic
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the database unless the last reading is younger than ``ttl``."""
        async with self._lock:
            if self._read_at is not None and self.monotonic() - self._read_at < self.ttl:
                return
            now = self.clock()
            backlog = await self.store.backlog()
            audit_rows = await self.store.count_rows(AuditEntry)
            health = await self.store.webhook_health(
                WEBHOOK_PROVIDERS, now, window=timedelta(hours=24)
            )
            self.metrics.outbox_backlog.set(backlog.pending)
            age = (now - backlog.oldest_at).total_seconds() if backlog.oldest_at else 0.0
            self.metrics.outbox_oldest_age.set(max(age, 0.0))
            self.metrics.outbox_failed.set(backlog.failed)
            self.metrics.audit_rows.set(audit_rows)
            for item in health:
                if item.last_received_at is not None:
                    self.metrics.webhook_last_received.labels(item.provider).set(
                        item.last_received_at.timestamp()
                    )
            self._read_at = self.monotonic()
