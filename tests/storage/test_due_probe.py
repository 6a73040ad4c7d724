"""The runners' "is anything due?" probe: it skips only looks that would find nothing.

Each poll of the queue, schedule and pending-delete runners asks SQLite first, with one
statement on the loop's own connection, and opens a session only when a row may be due
(``storage.due_probe``). The probe's answer must match the store's own query at every
moment, the exact due time included (times are compared as stored text on SQLite), and
the usual idle poll must not open a session at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.builds import PENDING as QUEUED_PENDING
from storage.builds import BuildStore, QueuedDistribution
from storage.db import Database
from storage.due_probe import DueProbe
from storage.pending_deletes import PendingDeleteStore
from storage.schedules import RUNNING, ScheduleStore
from tests.storage.test_schedule_store import scheduled

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # an exact second: stored as "...12:00:00.000000"
GRACE = timedelta(minutes=30)


@pytest.fixture
def no_sessions(database: Database) -> Iterator[list[str]]:
    """Record every session opened on ``database`` (the probe's point is opening none)."""
    opened: list[str] = []
    real = database.session

    @asynccontextmanager
    async def recording(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        opened.append("session")
        async with real(*args, **kwargs) as session:
            yield session

    database.session = recording  # type: ignore[method-assign]
    yield opened
    database.session = real  # type: ignore[method-assign]


async def test_probe_answers_as_the_query_at_every_moment(database: Database) -> None:
    """Pending rows due at T0 and T0+1 s, a done one at T0-1 h: the probe says "none due"
    exactly before T0, on SQLite; on PostgreSQL it never skips (the query decides)."""
    store = BuildStore(database)
    for offset in (0, 1):
        await store.enqueue(
            project_id="p1",
            upload_id=f"u{offset}",
            action="distribute",
            requested_by="U1",
            channel_id="C1",
            run_at=T0 + timedelta(seconds=offset),
            now=T0 - timedelta(hours=2),
        )
    table = QueuedDistribution.__table__  # type: ignore[attr-defined]
    due = DueProbe(database, table, ("state", QUEUED_PENDING), "run_at")
    strictly = DueProbe(database, table, ("state", QUEUED_PENDING), "run_at", "<")
    other_state = DueProbe(database, table, ("state", "done"), "run_at")
    sqlite = database.dialect == "sqlite"
    for moment, none_due, none_strictly in [
        (T0 - timedelta(hours=1), True, True),
        (T0 - timedelta(microseconds=1), True, True),
        (T0, False, True),  # due at its exact time; not strictly before it
        (T0 + timedelta(microseconds=1), False, False),
        (T0 + timedelta(days=1), False, False),
    ]:
        assert await due.none_due(moment) is (none_due and sqlite), moment
        assert await strictly.none_due(moment) is (none_strictly and sqlite), moment
        assert await other_state.none_due(moment) is sqlite
    # The store's own look agrees with the probe at each side of T0.
    assert await store.claim_due(T0 - timedelta(microseconds=1)) is None
    claimed = await store.claim_due(T0)
    assert claimed is not None and claimed.upload_id == "u0"


def test_a_probe_of_a_column_the_table_lacks_is_refused(database: Database) -> None:
    """Column names are checked against the table when the probe is built."""
    table = QueuedDistribution.__table__  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        DueProbe(database, table, ("state", QUEUED_PENDING), "due_at")


async def test_idle_polls_open_no_session_on_sqlite(
    database: Database, no_sessions: list[str]
) -> None:
    """With nothing due, the queue's, the schedule's and the pending deletes' polls (and
    the schedule's stale check) find nothing without a session on SQLite; on PostgreSQL
    each opens its session as before."""
    builds, schedules, deletes = (
        BuildStore(database),
        ScheduleStore(database),
        PendingDeleteStore(database),
    )
    assert await builds.claim_due(T0) is None
    assert await schedules.claim_due(T0, runner="r1", grace=GRACE) is None
    assert await schedules.expire_stale(T0, older_than=GRACE) == []
    assert await deletes.claim_due(T0) is None
    assert no_sessions == ([] if database.dialect == "sqlite" else ["session"] * 4)


async def test_due_rows_are_still_claimed_and_stale_runs_expired(database: Database) -> None:
    """A due schedule is claimed through the probe; left running, it is expired later."""
    store = ScheduleStore(database)
    row = await scheduled(store, due=T0)
    claimed = await store.claim_due(T0, runner="r1", grace=GRACE)
    assert claimed is not None and (claimed.id, claimed.state) == (row.id, RUNNING)
    # Not stale at exactly the cutoff (claimed_at < cutoff is strict), stale a moment later.
    assert await store.expire_stale(T0 + GRACE, older_than=GRACE) == []
    expired = await store.expire_stale(T0 + GRACE + timedelta(microseconds=1), older_than=GRACE)
    assert [s.id for s in expired] == [row.id]
