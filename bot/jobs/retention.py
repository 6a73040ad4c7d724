"""The retention job: prunes sent notifications and old webhook deliveries on one replica at a time.

Every ``interval`` seconds the replica whose turn it is (:class:`bot.jobs.turns.Turns`) deletes,
in batches of ``batch_size`` rows with a short pause between batches, the outbox rows sent and
the webhook deliveries received more than ``STREAMOPS_RETENTION_DAYS`` ago
(:mod:`storage.retention`), and the replay-guard claims of Slack deliveries older than a day.
Pending and failed notifications, button claims and the audit log are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.jobs.loop import repeat
from bot.jobs.turns import Turns
from storage.db import Database
from storage.retention import RetentionStore

log = logging.getLogger("streamops.retention")

#: How long a Slack delivery's claim is kept: far past Slack's retries (about an hour) and
#: the five-minute signature window within which a captured request could be replayed.
DELIVERY_CLAIM_DAYS = 1.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Pruned:
    """Rows deleted by one run."""

    outbox: int = 0
    deliveries: int = 0
    claims: int = 0


class RetentionJob:
    """Deletes expired rows in small batches.

    Args:
        db: the shared database.
        clock: the current time, timezone-aware.
        retention: how long rows are kept.
        interval: seconds between runs (one replica per interval does the work).
        batch_size: rows per delete transaction.
        pause: seconds between batches (lets intake transactions through on SQLite).
        sleep: how to wait (injected by tests).
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        retention: timedelta,
        interval: float = 600.0,
        batch_size: int = 500,
        pause: float = 0.05,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = RetentionStore(db)
        self.turns = Turns(db, "retention", interval=interval, clock=clock)
        self.clock = clock
        self.retention = retention
        self.interval = interval
        self.batch_size = batch_size
        self.pause = pause
        self.sleep = sleep

    async def prune(self) -> Pruned:
        """Delete every expired row now, batch by batch (no turn taken)."""
        cutoff = self.clock() - self.retention
        outbox = await self._drain(self.store.prune_sent_outbox, cutoff)
        # Deliveries after the outbox rows that point at them are gone.
        deliveries = await self._drain(self.store.prune_deliveries, cutoff)
        claim_cutoff = self.clock() - timedelta(days=DELIVERY_CLAIM_DAYS)
        claims = await self._drain(self.store.prune_delivery_claims, claim_cutoff)
        if outbox or deliveries or claims:
            log.info(
                "retention: deleted %d sent notifications and %d webhook deliveries before %s, "
                "and %d Slack delivery claims",
                outbox,
                deliveries,
                cutoff.isoformat(),
                claims,
            )
        return Pruned(outbox=outbox, deliveries=deliveries, claims=claims)

    async def _drain(
        self, prune: Callable[[datetime, int], Awaitable[int]], cutoff: datetime
    ) -> int:
        total = 0
        while True:
            deleted = await prune(cutoff, self.batch_size)
            total += deleted
            if deleted < self.batch_size:
                return total
            await self.sleep(self.pause)

    async def run_once(self) -> Pruned | None:
        """Prune if it is this replica's turn; None when another replica has it."""
        if not await self.turns.mine():
            return None
        return await self.prune()

    async def run(self) -> None:
        """Run every ``interval`` seconds until cancelled, first one interval after start-up.

        Nothing heavy runs while a replica starts (or a whole deploy restarts); from then on the
        turn picks one replica per interval.
        """
        await self.sleep(self.interval)
        await repeat("retention", self.run_once, interval=self.interval, sleep=self.sleep)
