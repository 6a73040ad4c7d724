"""Runs queued Streampixel distributions when the slot opens.

Queued work lives in the database, so it survives restarts and replicas share
it: each due row is claimed by exactly one replica. Each run goes through
:meth:`bot.services.releases.Releases.release` (the same function as the
Distribute button) and its result reaches the requester's channel through the
outbox, so a Slack outage delays it instead of losing it.
"""

from __future__ import annotations

import asyncio

from bot.jobs.loop import repeat
from bot.services.builds import QueuedRun
from bot.services.releases import Releases

#: How often the runner looks for due work when nobody wakes it.
POLL_SECONDS = 5.0


class QueueRunner:
    """The queue's background job.

    Args:
        releases: the release use cases.
        wake: set by :meth:`Releases.queue` (and :meth:`wake`) to look for due work now.
        poll_seconds: how long to wait between looks when not woken.
        enabled: False when Streampixel is not configured (the job then idles).
    """

    def __init__(
        self,
        releases: Releases,
        wake: asyncio.Event,
        *,
        poll_seconds: float = POLL_SECONDS,
        enabled: bool = True,
    ) -> None:
        self.releases = releases
        self._wake = wake
        self.poll_seconds = poll_seconds
        self.enabled = enabled

    def wake(self) -> None:
        """Look for due work now (after queueing, or when a test moves the clock)."""
        self._wake.set()

    async def run_due(self) -> list[QueuedRun]:
        """Run every due queued distribution once; what happened to each."""
        if not self.enabled:
            return []
        return await self.releases.run_due()

    async def run(self) -> None:
        """Loop until cancelled: run what is due, then sleep until woken or the poll interval."""
        await repeat("queue", self.run_due, interval=self.poll_seconds, wake=self._wake)
