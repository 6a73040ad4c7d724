"""Retention: only old, settled rows go; dedupe holds within the window; one replica prunes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.jobs.retention import Pruned, RetentionJob
from storage.db import Database
from storage.notifications import Notice
from storage.outbox import OutboxStore
from storage.webhooks import Intake, WebhookStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=1)


def _intake(key: str, *, posted: bool = True) -> Intake:
    return Intake(
        provider="streampixel",
        event="build.approved",
        subject=key,
        project="p1",
        dedupe_key=key,
        raw_payload="{}",
        notification=(
            Notice(provider="streampixel", event="build.approved", subject=key) if posted else None
        ),
        subject_key=key,
    )


async def _deliver(db: Database, key: str, at: datetime, ending: str | None) -> None:
    """Record webhook ``key`` at ``at`` to its own channel; then send, fail or leave it pending."""
    await WebhookStore(db).record(_intake(key), at, default_channel=f"C-{key}")
    if ending is None:
        return
    outbox = OutboxStore(db)
    lease = await outbox.lease("w", at, timedelta(seconds=60))
    assert lease is not None and lease.row.channel == f"C-{key}"
    if ending == "sent":
        assert await outbox.complete(lease, at, "1.0")
    else:
        assert await outbox.fail(lease, at, "channel_not_found")


async def _keys(db: Database, table: str) -> set[str]:
    column = "subject_key" if table == "outbox" else "dedupe_key"
    async with db.engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT {column} FROM {table}"))  # noqa: S608
        return set(rows.scalars())


def _job(db: Database, **kwargs: object) -> RetentionJob:
    async def no_sleep(_: float) -> None:
        return None

    return RetentionJob(
        db,
        clock=lambda: NOW,
        retention=timedelta(days=30),
        batch_size=2,
        sleep=no_sleep,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_only_old_settled_rows_are_deleted(database: Database) -> None:
    """Old sent notifications and their deliveries go; pending, failed and recent rows stay."""
    for index in range(5):
        await _deliver(database, f"old-sent-{index}", OLD, "sent")
    await _deliver(database, "old-failed", OLD, "failed")
    await WebhookStore(database).record(
        _intake("old-ignored", posted=False), OLD, default_channel=None
    )
    await _deliver(database, "recent-sent", RECENT, "sent")
    await _deliver(database, "old-pending", OLD, None)  # last: a pending row is leased first
    await WebhookStore(database).record(
        _intake("recent-ignored", posted=False), RECENT, default_channel=None
    )

    pruned = await _job(database).prune()

    assert pruned == Pruned(outbox=5, deliveries=6)  # 5 sent + the ignored one, in batches of 2
    assert await _keys(database, "outbox") == {"old-failed", "old-pending", "recent-sent"}
    assert await _keys(database, "webhook_deliveries") == {
        "old-failed",
        "old-pending",
        "recent-sent",
        "recent-ignored",
    }
    assert await _job(database).prune() == Pruned()  # nothing left to do


async def test_the_audit_log_is_never_pruned(database: Database) -> None:
    """Audit rows older than the window survive a prune."""
    from storage.audit import AuditLog
    from storage.audit_events import AuditEvent

    log = AuditLog(database)
    await log.record(
        AuditEvent(
            action="distribute", outcome="ok", actor_id="U1", source="button", requested_at=OLD
        )
    )
    before = await _count(database, "audit_entries")
    await _deliver(database, "old-sent", OLD, "sent")
    assert (await _job(database).prune()).outbox == 1
    assert await _count(database, "audit_entries") == before >= 1


async def _count(db: Database, table: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar() or 0)  # noqa: S608


async def test_deduplication_holds_within_the_window(database: Database) -> None:
    """A replay of a delivery inside the window is still a duplicate after pruning."""
    await _deliver(database, "recent", RECENT, "sent")
    await _deliver(database, "old", OLD, "sent")
    await _job(database).prune()
    again = await WebhookStore(database).record(_intake("recent"), NOW, default_channel="C")
    assert again.duplicate


async def test_one_replica_prunes_per_interval(database: Database) -> None:
    """Two replicas' jobs started together: one takes the turn, the other skips it."""
    for index in range(3):
        await _deliver(database, f"old-{index}", OLD, "sent")
    first, second = _job(database, interval=600.0), _job(database, interval=600.0)
    results = await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(results, key=lambda r: r is None) == [Pruned(outbox=3, deliveries=3), None]


async def test_intake_goes_on_while_pruning(database: Database) -> None:
    """Webhooks recorded while a prune runs are all stored."""
    for index in range(20):
        await _deliver(database, f"old-{index}", OLD, "sent")
    store = WebhookStore(database)
    job = _job(database)
    results = await asyncio.gather(
        job.prune(),
        *(store.record(_intake(f"new-{i}"), NOW, default_channel="C") for i in range(20)),
    )
    assert results[0] == Pruned(outbox=20, deliveries=20)
    assert await _keys(database, "webhook_deliveries") == {f"new-{i}" for i in range(20)}


async def test_the_loop_waits_an_interval_then_prunes_each_interval(database: Database) -> None:
    """run(): sleep first (nothing at start-up), then one prune per interval."""
    await _deliver(database, "old", OLD, "sent")
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            assert await _count(database, "outbox") == 1  # nothing pruned before the first wait
        if len(sleeps) == 3:
            raise asyncio.CancelledError

    job = RetentionJob(
        database, clock=lambda: NOW, retention=timedelta(days=30), interval=60.0, sleep=sleep
    )
    with pytest.raises(asyncio.CancelledError):
        await job.run()
    assert sleeps == [60.0, 60.0, 60.0]
    assert await _count(database, "outbox") == 0


async def test_slack_delivery_claims_go_after_a_day_and_button_claims_stay(
    database: Database,
) -> None:
    """Replay-guard claims older than a day are pruned; one-shot button claims never are."""
    from storage.coordination import ActionClaim, ClaimStore

    day_and_a_bit = NOW - timedelta(days=1, minutes=1)
    hour_ago = NOW - timedelta(hours=1)
    rows = {
        "slack-command:old": day_and_a_bit,
        "slack-event:Ev0001": day_and_a_bit,
        "slack-envelope:env-1": OLD,
        "slack-command:fresh": hour_ago,
        "distribute:p1:u1:C1:1.1": OLD,  # a spent button keeps saying who used it
        "audit-verify:7": OLD,
    }
    async with database.session() as session:
        for key, at in rows.items():
            session.add(ActionClaim(claim_key=key, actor_id="U1", claimed_at=at))

    pruned = await _job(database).prune()

    assert pruned == Pruned(claims=3)
    claims = ClaimStore(database)
    kept = {key for key in rows if await claims.get(key) is not None}
    assert kept == {"slack-command:fresh", "distribute:p1:u1:C1:1.1", "audit-verify:7"}
    # A pruned delivery can be claimed again: by then Slack no longer retries or replays it.
    assert await claims.claim("slack-command:old", "U1")


def test_the_pruned_prefixes_are_the_keys_the_guards_claim() -> None:
    """The replay guard's and the Socket Mode handler's keys are the ones retention prunes."""
    from bot.socket_mode import envelope_key
    from handlers.replay_guard import delivery_key
    from storage.retention import DELIVERY_CLAIM_PREFIXES

    event = delivery_key({"type": "event_callback", "event_id": "Ev1"})
    command = delivery_key({"command": "/build", "trigger_id": "1.2.abc"})
    assert event is not None and command is not None
    assert event.startswith(DELIVERY_CLAIM_PREFIXES) and command.startswith(DELIVERY_CLAIM_PREFIXES)
    assert envelope_key("1d2e3f").startswith(DELIVERY_CLAIM_PREFIXES)
