"""A row committed while every delivery worker is mid-lease goes out at once, not at the poll."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.outbox_worker import OutboxOptions, OutboxWorker
from bot.notifications.types import Notice
from bot.sandbox.slack import FakeSlack
from handlers.blocks.notifications import NOTIFICATIONS
from storage.outbox import Lease
from storage.outbox_wakeup import for_database
from storage.webhooks import Intake, WebhookStore

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)


async def _queue(db: Any, key: str) -> None:
    notification = Notice(
        provider="streampixel", event="build.uploaded", subject="up1", project="P1", timestamp=key
    )
    await WebhookStore(db).record(
        Intake(
            provider="streampixel",
            event="build.uploaded",
            subject="up1",
            project="P1",
            dedupe_key=key,
            raw_payload="{}",
            notification=notification,
            subject_key="streampixel:up1",
        ),
        T0,
        default_channel="C1",
    )


async def _sleep(_: float) -> None:
    await asyncio.sleep(0)


async def test_a_row_committed_during_the_lease_is_not_left_for_the_poll(
    database: Any, slack: tuple[FakeSlack, AsyncWebClient]
) -> None:
    """The worker's lease finds nothing; the row commits (and notifies) before that lease
    returns, while nobody waits; the worker leases again at once instead of sleeping
    through its hour-long poll."""
    fake, client = slack
    worker = OutboxWorker(
        database,
        client,
        NOTIFICATIONS,
        clock=lambda: T0 + timedelta(seconds=1),
        sleep=_sleep,
        options=OutboxOptions(poll_interval=3600, concurrency=1),
        wakeup=for_database(database),
    )
    real_lease = worker.store.lease
    leased_nothing, row_committed = asyncio.Event(), asyncio.Event()

    async def lease(*args: Any, **kwargs: Any) -> Lease | None:
        found = await real_lease(*args, **kwargs)
        if not leased_nothing.is_set():
            leased_nothing.set()  # this lease looked before the row existed...
            await row_committed.wait()  # ...and returns after it was committed
        return found

    real_complete = worker.store.complete
    completed = asyncio.Event()

    async def complete(*args: Any, **kwargs: Any) -> bool:
        done = await real_complete(*args, **kwargs)
        completed.set()
        return done

    worker.store.lease = lease  # type: ignore[method-assign]
    worker.store.complete = complete  # type: ignore[method-assign]
    running = asyncio.create_task(worker.run())
    try:
        await leased_nothing.wait()
        await _queue(database, "k1")
        row_committed.set()
        await asyncio.wait_for(completed.wait(), 30)  # a guard; the poll would take an hour
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert len(fake.channel_messages("C1")) == 1
