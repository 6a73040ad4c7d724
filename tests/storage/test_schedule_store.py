"""Scheduled runs: created, claimed exactly once, missed when too late, cancelled, expired."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Database
from storage.schedules import (
    CANCELLED,
    DONE,
    FAILED,
    MISSED,
    PENDING,
    RUNNING,
    Schedule,
    ScheduleStore,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=30)


async def scheduled(store: ScheduleStore, due: datetime = T0, upload: str = "u1") -> Schedule:
    """A pending distribution of ``upload`` due at ``due``, requested an hour before T0."""
    return await store.create(
        project_id="p1",
        project_name="Showroom Demo",
        upload_id=upload,
        action="distribute",
        requested_by="U1",
        channel_id="C1",
        due_at=due,
        now=T0 - timedelta(hours=1),
    )


async def test_a_run_is_not_claimed_before_it_is_due(database: Database) -> None:
    """Before its time nothing is claimed; next_due says when."""
    store = ScheduleStore(database)
    row = await scheduled(store)
    assert (row.state, row.due_at, row.run_at, row.attempts) == (PENDING, T0, T0, 0)
    assert await store.claim_due(T0 - timedelta(seconds=1), runner="r1", grace=GRACE) is None
    assert await store.next_due() == T0
    assert [s.id for s in await store.upcoming()] == [row.id]


async def test_concurrent_claims_run_a_due_row_once(database: Database) -> None:
    """Eight runners claiming at once: exactly one gets the row."""
    store = ScheduleStore(database)
    row = await scheduled(store)
    claims = await asyncio.gather(
        *(store.claim_due(T0, runner=f"r{i}", grace=GRACE) for i in range(8))
    )
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].id == row.id
    assert (won[0].state, won[0].attempts, won[0].claimed_at) == (RUNNING, 1, T0)
    assert await store.claim_due(T0, runner="late", grace=GRACE) is None


async def test_finish_only_by_the_runner_that_claimed(database: Database) -> None:
    """A runner cannot finish a row another runner holds; the owner can, once."""
    store = ScheduleStore(database)
    await scheduled(store)
    claimed = await store.claim_due(T0, runner="r1", grace=GRACE)
    assert claimed is not None and claimed.runner == "r1"
    at = T0 + timedelta(seconds=3)
    assert await store.finish(claimed.id, runner="r2", state=DONE, message="x", at=at) is None
    done = await store.finish(
        claimed.id, runner="r1", state=DONE, message="Distribution triggered", at=at
    )
    assert done is not None and (done.state, done.finished_at) == (DONE, at)
    assert await store.finish(claimed.id, runner="r1", state=FAILED, message="y", at=at) is None
    assert await store.upcoming() == []
    with pytest.raises(ValueError):
        await store.finish(claimed.id, runner="r1", state=RUNNING, message="", at=at)


async def test_waiting_for_the_slot_puts_the_row_back_for_later(database: Database) -> None:
    """A busy slot: the row is pending again at the slot time, due_at unchanged."""
    store = ScheduleStore(database)
    await scheduled(store)
    claimed = await store.claim_due(T0, runner="r1", grace=GRACE)
    assert claimed is not None
    opens = T0 + timedelta(seconds=90)
    assert await store.wait_for_slot(claimed.id, runner="r1", until=opens)
    assert await store.claim_due(T0 + timedelta(seconds=60), runner="r1", grace=GRACE) is None
    again = await store.claim_due(opens, runner="r2", grace=GRACE)
    assert again is not None and (again.attempts, again.due_at, again.run_at) == (2, T0, opens)


async def test_a_run_late_by_more_than_the_grace_is_missed_not_run(database: Database) -> None:
    """Claimed 31 minutes late: it comes back already marked missed."""
    store = ScheduleStore(database)
    await scheduled(store)
    late = T0 + GRACE + timedelta(minutes=1)
    missed = await store.claim_due(late, runner="r1", grace=GRACE)
    assert missed is not None and (missed.state, missed.attempts, missed.finished_at) == (
        MISSED,
        0,
        late,
    )
    assert await store.claim_due(late, runner="r2", grace=GRACE) is None


async def test_a_run_just_within_the_grace_still_runs(database: Database) -> None:
    """Exactly the grace late counts as on time."""
    store = ScheduleStore(database)
    await scheduled(store)
    claimed = await store.claim_due(T0 + GRACE, runner="r1", grace=GRACE)
    assert claimed is not None and claimed.state == RUNNING


async def test_cancel_only_while_pending(database: Database) -> None:
    """A pending row is cancelled once; a running one cannot be cancelled."""
    store = ScheduleStore(database)
    first = await scheduled(store, upload="u1")
    second = await scheduled(store, upload="u2", due=T0 + timedelta(minutes=5))
    cancelled = await store.cancel(first.id, by="UADMIN", at=T0 - timedelta(minutes=1))
    assert cancelled is not None and (cancelled.state, cancelled.finished_by) == (
        CANCELLED,
        "UADMIN",
    )
    assert await store.cancel(first.id, by="U1", at=T0) is None
    running = await store.claim_due(T0 + timedelta(minutes=5), runner="r1", grace=GRACE)
    assert running is not None and running.id == second.id
    assert await store.cancel(second.id, by="U1", at=T0) is None
    got = await store.get(first.id)
    assert got is not None and got.state == CANCELLED


async def test_a_row_left_running_by_a_dead_runner_is_failed_once(database: Database) -> None:
    """After the lease, a stuck running row is ended as failed (reported, not re-run)."""
    store = ScheduleStore(database)
    await scheduled(store)
    claimed = await store.claim_due(T0, runner="gone", grace=GRACE)
    assert claimed is not None
    lease = timedelta(minutes=10)
    assert await store.expire_stale(T0 + timedelta(minutes=5), older_than=lease) == []
    [ended] = await store.expire_stale(T0 + timedelta(minutes=11), older_than=lease)
    assert ended.state == FAILED and "interrupted" in ended.message
    assert await store.expire_stale(T0 + timedelta(minutes=20), older_than=lease) == []
    assert await store.finish(claimed.id, runner="gone", state=DONE, message="", at=T0) is None
