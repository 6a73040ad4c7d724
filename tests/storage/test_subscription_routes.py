"""Routing through the (provider, project) index gives what the row-by-row match gave."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from storage.db import Database
from storage.subscriptions import SubscriptionStore, channels_for, channels_from

NOW = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)
PROVIDERS = ("streampixel", "streamstack")
PROJECTS = ("", "p1", "p2")
FILTERS: tuple[tuple[str, ...], ...] = ((), ("approved",), ("build.failed", "rejected"))
EVENTS = ("build.approved", "build.failed", "build.rejected", "video.ready", "approved")


async def test_routes_match_every_subscription_exactly_like_matches(database: Database) -> None:
    """Every provider, project and filter combination, in seven channels, against every event."""
    store = SubscriptionStore(database)
    for n, (provider, project, events) in enumerate(
        itertools.product(PROVIDERS, PROJECTS, FILTERS)
    ):
        await store.subscribe(
            f"C{n % 7}", provider, project=project, events=events, created_by="U1", now=NOW
        )
    everything = sorted(await store.all(), key=lambda s: s.id or 0)
    async with database.session() as session:
        for provider, project, event in itertools.product(
            (*PROVIDERS, "streamapi"), ("p1", "p2", "p3", None), EVENTS
        ):
            expected = channels_from(everything, provider, project, event)
            assert await channels_for(session, provider, project, event) == expected, (
                provider,
                project,
                event,
            )
