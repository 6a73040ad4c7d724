"""Scheduled video deletes: undo or run, exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.pending_deletes import DONE, PENDING, RUNNING, UNDONE, PendingDeleteStore

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
UUID = "9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"


async def _schedule(store: PendingDeleteStore, uuid: str = UUID, minutes: int = 10):
    return await store.schedule(
        media_uuid=uuid,
        title="Launch trailer",
        requested_by="U1",
        channel_id="C1",
        message_ts=None,
        due_at=T0 + timedelta(minutes=minutes),
        now=T0,
    )


async def test_a_delete_is_not_due_before_its_time_and_runs_once_after(database: Database) -> None:
    """Before the undo window ends nothing is claimed; after it, exactly one claim wins."""
    store = PendingDeleteStore(database)
    scheduled, new = await _schedule(store)
    assert new and scheduled.state == PENDING
    assert await store.claim_due(T0 + timedelta(minutes=9)) is None
    later = T0 + timedelta(minutes=10)
    claims = await asyncio.gather(*(store.claim_due(later) for _ in range(8)))
    won = [c for c in claims if c is not None]
    assert [c.id for c in won] == [scheduled.id]
    assert won[0].state == RUNNING
    await store.finish(scheduled.id, DONE, "", later)
    assert (await store.get(scheduled.id)).state == DONE  # type: ignore[union-attr]


async def test_undo_wins_over_a_later_run_and_only_once(database: Database) -> None:
    """Undo in time cancels the delete; a second undo and the due run both find nothing."""
    store = PendingDeleteStore(database)
    scheduled, _ = await _schedule(store)
    results = await asyncio.gather(*(store.undo(scheduled.id, f"U{n}", T0) for n in range(5)))
    assert results.count(True) == 1
    assert await store.claim_due(T0 + timedelta(hours=1)) is None
    row = await store.get(scheduled.id)
    assert row is not None and row.state == UNDONE and row.finished_by is not None


async def test_undo_after_the_run_started_is_refused(database: Database) -> None:
    """Once the delete has been claimed for sending, undo is too late."""
    store = PendingDeleteStore(database)
    scheduled, _ = await _schedule(store, minutes=0)
    assert await store.claim_due(T0) is not None
    assert not await store.undo(scheduled.id, "U2", T0)


async def test_a_second_delete_of_the_same_video_reuses_the_pending_one(database: Database) -> None:
    """Two confirmations for one video schedule one delete."""
    store = PendingDeleteStore(database)
    first, new_first = await _schedule(store)
    second, new_second = await _schedule(store)
    assert new_first and not new_second and first.id == second.id
    assert await store.next_due() == T0 + timedelta(minutes=10)
