"""Known builds, the shared rate slot and queued distributions, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.builds import DONE, PENDING, RUNNING, BuildStore
from storage.coordination import RateSlots
from storage.db import Database

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=2)


async def test_upload_then_webhooks_keep_the_latest_status(database: Database) -> None:
    """An upload is remembered; later pipeline events update it, older ones do not."""
    store = BuildStore(database)
    await store.remember_upload(
        "p1", "u1", file_url="https://x/b.zip", auto_release=False, requested_by="U1", at=T0
    )
    await store.note_pipeline_event("p1", "u1", "Approved", None, None, T0 + timedelta(minutes=5))
    await store.note_pipeline_event(
        "p1", "u1", "Downloading Files", None, None, T0 + timedelta(minutes=1)
    )
    build = await store.get_build("p1", "u1")
    assert build is not None
    assert (build.last_status, build.last_status_at) == ("Approved", T0 + timedelta(minutes=5))
    assert (build.file_url, build.auto_release, build.requested_by) == (
        "https://x/b.zip",
        False,
        "U1",
    )


async def test_webhook_before_upload_reply_creates_the_row_and_upload_fills_it(
    database: Database,
) -> None:
    """A build.uploaded webhook that beats our own upload reply is merged, not duplicated."""
    store = BuildStore(database)
    await store.note_pipeline_event("p1", "u9", "pending", "https://x/9.zip", None, T0)
    await store.note_pipeline_event(
        "p1", "u9", "Reject", None, "bad files", T0 + timedelta(seconds=30)
    )
    await store.remember_upload(
        "p1", "u9", file_url="https://x/9.zip", auto_release=True, requested_by="U2", at=T0
    )
    build = await store.get_build("p1", "u9")
    assert build is not None
    assert (build.requested_by, build.last_status, build.objection) == ("U2", "Reject", "bad files")
    assert await store.count_builds("p1") == 1


async def test_builds_are_listed_newest_first_per_project(database: Database) -> None:
    """builds_for lists one project's builds, newest first, paged."""
    store = BuildStore(database)
    for i in range(5):
        await store.remember_upload(
            "p1",
            f"u{i}",
            file_url=f"https://x/{i}.zip",
            auto_release=True,
            requested_by="U1",
            at=T0 + timedelta(minutes=i),
        )
    await store.note_pipeline_event("p2", "other", "Approved", None, None, T0)
    assert [b.upload_id for b in await store.builds_for("p1")] == ["u4", "u3", "u2", "u1", "u0"]
    assert [b.upload_id for b in await store.builds_for("p1", limit=2, offset=2)] == ["u2", "u1"]
    assert await store.count_builds("p1") == 5


async def test_slot_admits_one_call_per_window(database: Database) -> None:
    """The first call takes the slot, the next learns when it opens, then it is free again."""
    store = RateSlots(database)
    assert await store.take_slot("acct", "distribute", now=T0, window=WINDOW) is None
    later = T0 + timedelta(seconds=30)
    assert await store.take_slot("acct", "distribute", now=later, window=WINDOW) == T0 + WINDOW
    assert await store.take_slot("acct", "upload", now=later, window=WINDOW) is None
    assert await store.next_slot("acct", "distribute", now=later, window=WINDOW) == T0 + WINDOW
    assert await store.take_slot("acct", "distribute", now=T0 + WINDOW, window=WINDOW) is None


async def test_concurrent_slot_takers_have_one_winner(database: Database) -> None:
    """Ten simultaneous takers of a fresh slot (and then of a used one) admit exactly one."""
    store = RateSlots(database)
    first = await asyncio.gather(
        *(store.take_slot("acct", "distribute", now=T0, window=WINDOW) for _ in range(10))
    )
    assert first.count(None) == 1
    later = T0 + WINDOW
    second = await asyncio.gather(
        *(store.take_slot("acct", "distribute", now=later, window=WINDOW) for _ in range(10))
    )
    assert second.count(None) == 1


async def test_block_slot_pushes_the_next_opening(database: Database) -> None:
    """When the provider says wait, the slot opens only at the time it gave."""
    store = RateSlots(database)
    until = T0 + timedelta(minutes=2)
    await store.block_slot("acct", "distribute", until=until, window=WINDOW)
    assert await store.take_slot("acct", "distribute", now=T0, window=WINDOW) == until
    assert await store.take_slot("acct", "distribute", now=until, window=WINDOW) is None


async def test_queue_claims_due_work_once(database: Database) -> None:
    """Only due work is claimed, each item by one caller, and its end is recorded."""
    store = BuildStore(database)
    queued = await store.enqueue(
        project_id="p1",
        upload_id="u1",
        action="distribute",
        requested_by="U1",
        channel_id="C1",
        run_at=T0 + WINDOW,
        now=T0,
    )
    assert queued.state == PENDING and await store.next_due() == T0 + WINDOW
    assert await store.claim_due(T0) is None
    winners = await asyncio.gather(*(store.claim_due(T0 + WINDOW) for _ in range(5)))
    claimed = [w for w in winners if w is not None]
    assert len(claimed) == 1 and claimed[0].state == RUNNING
    await store.reschedule(queued.id, T0 + 2 * WINDOW)
    assert await store.claim_due(T0 + WINDOW) is None
    again = await store.claim_due(T0 + 2 * WINDOW)
    assert again is not None and again.id == queued.id
    await store.finish_queued(queued.id, DONE, "Distribution triggered", T0 + 2 * WINDOW)
    [final] = await store.queued()
    assert (final.state, final.message, final.finished_at) == (
        DONE,
        "Distribution triggered",
        T0 + 2 * WINDOW,
    )
    assert await store.next_due() is None
