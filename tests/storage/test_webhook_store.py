"""The intake store under a burst: batched, deduplicated, one outbox row per new delivery."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import Database
from storage.notifications import Notice
from storage.webhooks import Intake, WebhookStore


def _intake(key: str, subject: str, event: str = "build.approved") -> Intake:
    return Intake(
        provider="streampixel",
        event=event,
        subject=subject,
        project="p1",
        dedupe_key=key,
        raw_payload="{}",
        notification=Notice(provider="streampixel", event=event, subject=subject),
        subject_key=subject,
    )


async def test_a_burst_with_replays_stores_each_delivery_once(database: Database) -> None:
    """Concurrent deliveries, half of them replays (some within the same batch), store once each."""
    store = WebhookStore(database)
    keys = [uuid.uuid4().hex for _ in range(40)]
    now = datetime.now(UTC)
    await asyncio.gather(
        *(store.record(_intake(k, k), now, default_channel="C1") for k in keys[:20])
    )
    results = await asyncio.gather(
        *(store.record(_intake(k, k), now, default_channel="C1") for k in keys + keys)
    )
    assert sum(not r.duplicate for r in results) == 20
    assert all(r.channels == ("C1",) for r in results if not r.duplicate)
    async with database.engine.connect() as conn:
        deliveries = (await conn.execute(text("SELECT count(*) FROM webhook_deliveries"))).scalar()
        outbox = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar()
    assert (deliveries, outbox) == (40, 40)


async def test_prior_events_include_earlier_deliveries_of_the_same_batch(
    database: Database,
) -> None:
    """A notification lists the events already received about its build, batch mates included."""
    store = WebhookStore(database)
    now = datetime.now(UTC)
    await asyncio.gather(
        store.record(_intake("a", "u1", "build.uploaded"), now, default_channel="C1"),
        store.record(_intake("b", "u1", "build.distributing"), now, default_channel="C1"),
        store.record(_intake("c", "u1", "build.approved"), now, default_channel="C1"),
    )
    async with database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT payload FROM outbox ORDER BY id"))).scalars()
        priors = [json.loads(p)["prior_events"] for p in rows]
    assert priors == [[], ["build.uploaded"], ["build.distributing", "build.uploaded"]]
