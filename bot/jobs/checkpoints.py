"""Checkpoint the audit chain head now and then (makes truncation detectable)."""

from __future__ import annotations

import asyncio

from bot.jobs.loop import repeat
from storage.audit import AuditLog

#: Seconds between checkpoints.
CHECKPOINT_SECONDS = 300.0


async def checkpoint_periodically(log: AuditLog, every: float = CHECKPOINT_SECONDS) -> None:
    """Checkpoint the audit chain head every ``every`` seconds, until cancelled."""

    async def step() -> None:
        await log.checkpoint()

    # The first checkpoint waits one interval, as before: start-up writes nothing.
    await asyncio.sleep(every)
    await repeat("audit-checkpoint", step, interval=every)
