"""The delivery worker under an injected clock: Retry-After, backoff and pacing, exactly."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.outbox_worker import OutboxOptions, OutboxWorker
from bot.notifications.types import Notice
from handlers.blocks.notifications import NOTIFICATIONS
from storage.coordination import Pacing
from storage.outbox import OutboxStore
from storage.outbox_wakeup import OutboxWakeup
from storage.webhooks import Intake, WebhookStore

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)


class Clock:
    """A clock that only moves when told to, or when the worker sleeps."""

    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


async def _queue(db, event: str, key: str, subject: str = "up1") -> None:
    notification = Notice(
        provider="streampixel", event=event, subject=subject, project="P1", timestamp=key
    )
    await WebhookStore(db).record(
        Intake(
            provider="streampixel",
            event=event,
            subject=subject,
            project="P1",
            dedupe_key=key,
            raw_payload="{}",
            notification=notification,
            subject_key=f"streampixel:{subject}",
        ),
        T0,
        default_channel="C1",
    )


def _worker(db, client: AsyncWebClient, clock: Clock, **options: float | bool) -> OutboxWorker:
    return OutboxWorker(
        db,
        client,
        NOTIFICATIONS,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
        options=OutboxOptions(**options),  # type: ignore[arg-type]
    )


async def test_no_call_is_made_before_retry_after_expires(database, slack) -> None:
    """After a 429 with Retry-After: 30, nothing is called until 30 s later; then it goes out."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock)
    await _queue(database, "build.uploaded", "k1")
    fake.retry_after = 30
    assert await worker.run_once()
    fake.retry_after = None
    assert len(fake.calls) == 1
    assert await Pacing(database).deferred_until("method:chat.postMessage") == T0 + timedelta(
        seconds=30
    )
    clock.now = T0 + timedelta(seconds=29)
    assert not await worker.run_once()
    assert len(fake.calls) == 1
    clock.now = T0 + timedelta(seconds=30)
    assert await worker.run_once()
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.channel_messages("C1")) == 1


async def test_transient_failures_back_off_exponentially(database, slack) -> None:
    """Each 503 doubles the wait before the next attempt (jitter pinned to the maximum)."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, backoff_base=2.0, backoff_cap=100.0)
    await _queue(database, "build.uploaded", "k1")
    fake.failures = 3
    waits = []
    for _ in range(3):
        before = clock.now
        assert await worker.run_once()
        [row] = await OutboxStore(database).rows()
        waits.append((row.next_attempt_at.replace(tzinfo=UTC) - before).total_seconds())
        clock.now = row.next_attempt_at.replace(tzinfo=UTC)
    assert waits == [2.0, 4.0, 8.0]
    assert await worker.run_once()
    [row] = await OutboxStore(database).rows()
    assert (row.status, row.attempts) == ("sent", 4)


async def test_posts_to_one_channel_are_paced(database, slack) -> None:
    """Three steps of one build post (parent + 2 replies) at least one interval apart."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, channel_interval=1.0, channel_burst=1, collapse=False)
    for i, event in enumerate(("build.uploaded", "build.downloading", "build.extracting")):
        await _queue(database, event, f"k{i}")
    while await worker.run_once():
        pass
    assert clock.slept == [1.0, 1.0]
    assert len(fake.calls_to("chat.postMessage")) == 3
    assert len(fake.calls_to("chat.update")) == 2


async def test_a_quiet_channel_takes_a_burst_of_two_then_one_per_interval(database, slack) -> None:
    """With the default burst of 2, the second post goes at once, the third waits an interval."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, channel_interval=1.0, collapse=False)
    for i, event in enumerate(("build.uploaded", "build.downloading", "build.extracting")):
        await _queue(database, event, f"k{i}")
    while await worker.run_once():
        pass
    assert clock.slept == [1.0]
    assert len(fake.calls_to("chat.postMessage")) == 3


async def test_rows_no_wake_up_announced_are_found_by_the_polling_loop(database, slack) -> None:
    """With a wake-up nobody signals (a row from another process, no NOTIFY), one loop polls.

    It delivers every row, and each time it finds one it wakes the other loops, which
    otherwise only poll rarely.
    """
    fake, client = slack
    wakeup = OutboxWakeup()
    worker = OutboxWorker(
        database,
        client,
        NOTIFICATIONS,
        clock=lambda: datetime.now(UTC),
        wakeup=wakeup,
        options=OutboxOptions(poll_interval=0.05, channel_interval=0.01, collapse=False),
    )
    running = asyncio.create_task(worker.run())
    try:
        # Queue only once every loop has looked, found nothing and waits: then the loop that
        # polls every 0.05 s is the one to find the rows (the others poll every 0.4 s), and no
        # wake-up announces them (this wake-up is not bound to the database's commits; on
        # PostgreSQL the rows' NOTIFY may wake a loop too, which delivers them all the same).
        for _ in range(3000):
            if len(wakeup._waiters) == worker.options.concurrency:
                break
            await asyncio.sleep(0.01)
        for i, event in enumerate(("build.uploaded", "build.downloading", "build.extracting")):
            await _queue(database, event, f"k{i}")
        await fake.wait_for(
            lambda s: len(s.calls_to("chat.postMessage")) + len(s.calls_to("chat.update")) >= 3,
            within=30,
        )
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert wakeup.notified >= 1
