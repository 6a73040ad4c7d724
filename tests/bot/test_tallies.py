"""Duplicate and refused webhooks: counted in memory, written in batches, read back per window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs.tallies import TallyBuffer
from storage.db import Database
from storage.operations import OperationsStore

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


async def _health(db: Database, now: datetime) -> dict[str, tuple[int, int]]:
    rows = await OperationsStore(db).webhook_health(
        ("streampixel", "streamstack"), now, timedelta(hours=24)
    )
    return {h.provider: (h.duplicate, h.refused) for h in rows}


async def test_counts_are_written_in_one_batch_and_add_up(database: Database) -> None:
    """Counts from two flushes (and two replicas' buffers) add up per provider and outcome."""
    first = TallyBuffer(database, clock=lambda: NOW)
    second = TallyBuffer(database, clock=lambda: NOW)
    for _ in range(3):
        first.add("streampixel", "duplicate")
    first.add("streamstack", "refused")
    second.add("streampixel", "duplicate")
    await asyncio.gather(first.flush(), second.flush())
    first.add("streampixel", "refused")
    await first.flush()
    assert await _health(database, NOW) == {"streampixel": (4, 1), "streamstack": (0, 1)}


async def test_counts_older_than_the_window_are_left_out(database: Database) -> None:
    """A count two days old is not among the last 24 hours."""
    old = TallyBuffer(database, clock=lambda: NOW - timedelta(days=2))
    old.add("streampixel", "duplicate")
    await old.flush()
    assert await _health(database, NOW) == {"streampixel": (0, 0), "streamstack": (0, 0)}


async def test_the_loop_flushes_what_is_left_at_shutdown(database: Database) -> None:
    """Cancelling run() (app shutdown) writes the counts not yet flushed."""
    stop = asyncio.Event()

    async def sleep(_: float) -> None:
        await stop.wait()

    buffer = TallyBuffer(database, clock=lambda: NOW, sleep=sleep)
    task = asyncio.create_task(buffer.run())
    buffer.add("streamstack", "duplicate")
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _health(database, NOW) == {"streampixel": (0, 0), "streamstack": (1, 0)}
