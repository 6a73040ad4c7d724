"""Duplicate and refused webhooks, counted in memory and added to the shared tallies in batches.

The intake must stay one transaction per batch of webhooks, so a replay storm (every event sent
three times) or a flood of refused requests must not add one upsert per request on a hot row.
Each replica counts here and :meth:`TallyBuffer.flush` adds the counts to ``webhook_tallies``
every few seconds (and at shutdown), one upsert per (provider, hour, outcome).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.jobs.loop import repeat
from storage.db import Database
from storage.operations import DUPLICATE, REFUSED, OperationsStore

log = logging.getLogger("streamops.tallies")

#: Webhook metric outcomes that are refusals (``streamops_webhooks_total``).
REFUSALS = frozenset({"unauthorized", "invalid", "too_large"})


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class TallyBuffer:
    """Counts per (provider, hour, outcome) waiting to be written.

    Args:
        db: the shared database.
        clock: the current time, timezone-aware.
        interval: seconds between flushes of :meth:`run`.
        sleep: how to wait (injected by tests).
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        interval: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = OperationsStore(db)
        self.clock = clock
        self.interval = interval
        self.sleep = sleep
        self._counts: Counter[tuple[str, datetime, str]] = Counter()
        self._lock = asyncio.Lock()

    def count_webhook(self, provider: str, outcome: str) -> None:
        """Tally a webhook by its metric outcome: ``duplicate``, or a refusal (``unauthorized``,
        ``invalid``, ``too_large``); accepted and ignored ones are stored deliveries already."""
        if outcome == DUPLICATE:
            self.add(provider, DUPLICATE)
        elif outcome in REFUSALS:
            self.add(provider, REFUSED)

    def add(self, provider: str, outcome: str) -> None:
        """Count one ``duplicate`` or ``refused`` webhook of ``provider`` now (no I/O)."""
        self._counts[(provider, _hour(self.clock()), outcome)] += 1

    async def flush(self) -> None:
        """Add every count so far to the shared tallies (counts are kept if the write fails)."""
        async with self._lock:
            counts, self._counts = self._counts, Counter()
            try:
                await self.store.add_tallies(dict(counts))
            except BaseException:
                self._counts.update(counts)
                raise

    async def run(self) -> None:
        """Flush every ``interval`` seconds; a last time when cancelled (shutdown)."""
        try:
            await repeat("tallies", self.flush, interval=self.interval, sleep=self.sleep)
        finally:
            if self._counts:
                try:
                    await self.flush()
                except Exception:
                    log.warning("webhook tallies lost at shutdown")
