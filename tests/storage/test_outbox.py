"""The outbox store: per-channel order, leases that expire, shared pacing and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.coordination import Pacing
from storage.db import Database
from storage.notifications import Notice
from storage.outbox import OutboxRow, OutboxStore
from storage.subscriptions import SubscriptionStore
from storage.webhooks import Intake, WebhookStore

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def _queue(db: Database, *channels: str) -> list[int]:
    async with db.session() as session:
        rows = [
            OutboxRow(channel=c, subject_key="", payload="{}", next_attempt_at=T0, created_at=T0)
            for c in channels
        ]
        session.add_all(rows)
    return [r.id for r in rows if r.id is not None]


async def test_only_the_oldest_pending_row_of_a_channel_is_leased(database) -> None:
    """Two rows for one channel: the second cannot be leased until the first is done."""
    store = OutboxStore(database)
    first, second, other = await _queue(database, "C1", "C1", "C2")
    a = await store.lease("a", T0, LEASE)
    b = await store.lease("b", T0, LEASE)
    assert a is not None and b is not None
    assert (a.row.id, b.row.id) == (first, other)
    assert await store.lease("c", T0, LEASE) is None
    assert await store.complete(a, T0, "1.0")
    c = await store.lease("c", T0, LEASE)
    assert c is not None and c.row.id == second


async def test_an_expired_lease_is_taken_over_and_the_old_owner_is_locked_out(database) -> None:
    """A worker that died keeps its row only until the lease ends; then another gets it."""
    store = OutboxStore(database)
    await _queue(database, "C1")
    dead = await store.lease("dead", T0, LEASE)
    assert dead is not None
    assert await store.lease("next", T0 + LEASE - timedelta(seconds=1), LEASE) is None
    taken = await store.lease("next", T0 + LEASE + timedelta(seconds=1), LEASE)
    assert taken is not None and taken.row.attempts == 2
    assert not await store.complete(dead, T0, "1.0")
    assert await store.complete(taken, T0, "2.0")


async def test_retry_later_hides_the_row_until_it_is_due(database) -> None:
    """A row given back with a retry time is not leased before it."""
    store = OutboxStore(database)
    await _queue(database, "C1")
    lease = await store.lease("a", T0, LEASE)
    assert lease is not None
    await store.retry_later(lease, T0 + timedelta(seconds=10), "http_503")
    assert await store.lease("a", T0 + timedelta(seconds=9), LEASE) is None
    again = await store.lease("a", T0 + timedelta(seconds=10), LEASE)
    assert again is not None and again.row.error == "http_503"


async def test_channel_slots_are_spaced_by_the_interval(database) -> None:
    """Slots reserved at the same moment are one interval apart; a later caller starts fresh."""
    store = Pacing(database)
    second = timedelta(seconds=1)
    slots = [await store.reserve_slot("channel:C1", T0, second) for _ in range(3)]
    assert slots == [T0, T0 + second, T0 + 2 * second]
    assert await store.reserve_slot("channel:C2", T0, second) == T0
    later = T0 + timedelta(minutes=1)
    assert await store.reserve_slot("channel:C1", later, second) == later


async def test_a_burst_lets_slots_start_early_but_keeps_the_long_run_pace(database) -> None:
    """burst=2: two slots at once, then one per interval; a quiet spell restores the burst."""
    store = Pacing(database)
    second = timedelta(seconds=1)
    slots = [await store.reserve_slot("channel:C1", T0, second, burst=2) for _ in range(4)]
    assert slots == [T0, T0, T0 + second, T0 + 2 * second]
    quiet = T0 + timedelta(minutes=1)
    again = [await store.reserve_slot("channel:C1", quiet, second, burst=2) for _ in range(3)]
    assert again == [quiet, quiet, quiet + second]


async def test_retry_after_deadline_only_ever_moves_later(database) -> None:
    """A shorter Retry-After does not shorten a deadline already stored."""
    store = Pacing(database)
    await store.defer("method:chat.postMessage", T0 + timedelta(seconds=30))
    await store.defer("method:chat.postMessage", T0 + timedelta(seconds=5))
    assert await store.deferred_until("method:chat.postMessage") == T0 + timedelta(seconds=30)
    assert await store.deferred_until("method:chat.update") is None


async def test_intake_routes_to_matching_subscriptions_else_the_default(database) -> None:
    """Subscriptions narrow by project and event; nothing matching falls back to the default."""
    subs = SubscriptionStore(database)
    await subs.subscribe("CALL", "streampixel", created_by="U1", now=T0)
    await subs.subscribe(
        "CREL", "streampixel", project="P1", events=("approved",), created_by="U1", now=T0
    )
    store = WebhookStore(database)

    def intake(event: str, project: str, key: str) -> Intake:
        return Intake(
            provider="streampixel",
            event=event,
            subject="up1",
            project=project,
            dedupe_key=key,
            raw_payload="{}",
            notification=Notice(provider="streampixel", event=event, subject="up1"),
            subject_key="streampixel:up1",
        )

    approved = await store.record(intake("build.approved", "P1", "k1"), T0, default_channel="CDEF")
    saving = await store.record(intake("build.saving", "P1", "k2"), T0, default_channel="CDEF")
    assert approved.channels == ("CALL", "CREL")
    assert saving.channels == ("CALL",)
    media = Intake(
        provider="streamstack",
        event="media.uploaded",
        subject="v1",
        project=None,
        dedupe_key="k3",
        raw_payload="{}",
        notification=Notice(provider="streamstack", event="media.uploaded", subject="v1"),
        subject_key="streamstack:v1",
    )
    assert (await store.record(media, T0, default_channel="CDEF")).channels == ("CDEF",)


async def test_on_sqlite_a_lease_with_nothing_due_opens_no_session(database, monkeypatch) -> None:
    """The idle poll's answer comes from one statement on the loop's connection (SQLite).

    The session (and its transaction through aiosqlite's thread) is opened only when a
    deliverable row exists; the lease's result is the same either way.
    """
    if database.dialect != "sqlite":
        return
    store = OutboxStore(database)
    await _queue(database, "C1")
    held = await store.lease("a", T0, LEASE)  # the only row is leased now: nothing is due
    assert held is not None
    opened = []
    real_session = database.session

    def counted_session():  # type: ignore[no-untyped-def]
        opened.append(1)
        return real_session()

    monkeypatch.setattr(database, "session", counted_session)
    assert await store.lease("b", T0 + timedelta(seconds=1), LEASE) is None
    assert opened == []
    taken = await store.lease("b", T0 + LEASE + timedelta(seconds=1), LEASE)  # lease ran out
    assert taken is not None and taken.row.id == held.row.id and opened == [1]
