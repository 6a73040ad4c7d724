"""Runs scheduled distributions and rollbacks when they come due, once across replicas.

Scheduled runs live in the database (:mod:`storage.schedules`), so they survive
restarts; each due row is claimed by exactly one replica. Every round runs
what is due through :meth:`bot.services.schedules.Schedules.run_due` (which
calls the same release function as the Distribute button) and sleeps until the
next run is due, the poll interval passes, or someone wakes it (a new schedule,
a test moving the clock). Every report goes through the outbox.
"""

from __future__ import annotations

import asyncio

from bot.jobs.loop import repeat
from bot.services.schedules import ReleaseRun, Report, Schedules
from storage.schedules import Schedule

#: How often the runner looks for due work when nobody wakes it.
POLL_SECONDS = 5.0


class ScheduleRunner:
    """The schedule's background job.

    Args:
        schedules: the schedule use cases.
        release: runs one due schedule through the release use case.
        report: posts a schedule's end in its channel (through the outbox).
        wake: set to look for due work now.
        poll_seconds: how long to wait between looks when not woken.
        enabled: False when Streampixel is not configured (the job then idles).
    """

    def __init__(
        self,
        schedules: Schedules,
        release: ReleaseRun,
        report: Report,
        wake: asyncio.Event,
        *,
        poll_seconds: float = POLL_SECONDS,
        enabled: bool = True,
    ) -> None:
        self.schedules = schedules
        self.release = release
        self.report = report
        self._wake = wake
        self.poll_seconds = poll_seconds
        self.enabled = enabled

    def wake(self) -> None:
        """Look for due work now."""
        self._wake.set()

    async def run_due(self) -> list[Schedule]:
        """Run (or report missed) every due scheduled run once; the runs that ended."""
        if not self.enabled:
            return []
        return await self.schedules.run_due(self.release, self.report)

    async def run(self) -> None:
        """Loop until cancelled: run what is due, then sleep until woken or the interval."""
        await repeat("schedule", self.run_due, interval=self.poll_seconds, wake=self._wake)
