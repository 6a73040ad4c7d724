"""Reconciliation for StreamStack: post the status changes no webhook reported.

StreamStack sends each webhook once, without retries (providers.md S13), so a lost
``media.failed`` would never be seen. Every ``STREAMOPS_RECONCILE_MINUTES`` the replica whose turn
it is (:class:`bot.jobs.turns.Turns`) lists the media, maps each one's status to the event that
status implies, and for every video changed in the last ``lookback`` whose event is not among the
webhooks stored for it, records that event through the normal intake path (delivery row + outbox
rows in one transaction, so the delivery worker posts it like any webhook), marked
``reconciled`` so the message says it was found by reconciliation.

A video is only looked at once its last change is ``grace`` old, so a webhook still on its way
is not pre-empted. The reconciled event's dedupe key is its own, so it is posted once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.errors import ProviderError
from bot.jobs.loop import repeat
from bot.jobs.turns import Turns
from bot.notifications.types import Notice
from bot.providers.streamstack import StreamStackClient
from bot.providers.streamstack_models import Media
from bot.webhooks.parse import STREAMSTACK, dedupe_key
from storage.db import Database
from storage.operations import RECONCILED_PREFIX, OperationsStore
from storage.webhooks import Intake, WebhookStore

log = logging.getLogger("streamops.reconcile")

#: The webhook event each StreamStack media status implies.
STATUS_EVENTS = {
    "processing": "media.uploaded",
    "transcoded": "media.transcoded",
    "published": "media.published",
    "failed": "media.failed",
}


def notification_for(media: Media, event: str) -> Notice:
    """The notification a webhook for ``event`` would have carried, marked ``reconciled``."""
    return Notice(
        provider=STREAMSTACK,
        event=event,
        subject=media.uuid,
        timestamp=media.updated_at.isoformat() if media.updated_at else None,
        title=media.title or None,
        status=media.status,
        player_url=media.urls.player if media.urls else None,
        duration=media.duration,
        reconciled=True,
    )


def reconciled_payload(notification: Notice) -> str:
    """The stored payload of a reconciled delivery: marked, so webhook health leaves it out."""
    payload = json.dumps({"reconciled": True, **notification.to_payload()})
    assert payload.startswith(RECONCILED_PREFIX)
    return payload


class Reconciler:
    """Compares StreamStack's media with the webhooks received and fills the gaps.

    Args:
        db: the shared database.
        streamstack: the StreamStack client.
        clock: the current time, timezone-aware.
        interval: seconds between runs (one replica per interval does the work).
        default_channel: where notifications go when no subscription matches.
        lookback: only videos changed this recently are compared.
        grace: videos changed more recently than this are left for their webhook.
        sleep: how to wait (injected by tests).
    """

    def __init__(
        self,
        db: Database,
        streamstack: StreamStackClient,
        *,
        clock: Callable[[], datetime],
        interval: float,
        default_channel: str | None,
        lookback: timedelta = timedelta(hours=24),
        grace: timedelta = timedelta(minutes=2),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.operations = OperationsStore(db)
        self.webhooks = WebhookStore(db)
        self.streamstack = streamstack
        self.turns = Turns(db, "reconcile_streamstack", interval=interval, clock=clock)
        self.clock = clock
        self.interval = interval
        self.default_channel = default_channel
        self.lookback = lookback
        self.grace = grace
        self.sleep = sleep

    async def reconcile(self) -> list[tuple[str, str]]:
        """Compare once; the ``(event, uuid)`` pairs found and queued (none if listing failed)."""
        try:
            media = await self.streamstack.list_all()
        except ProviderError as exc:
            log.warning("StreamStack media list failed, nothing reconciled: %s", exc.message)
            return []
        now = self.clock()
        candidates = [
            m
            for m in media
            if m.status in STATUS_EVENTS
            and m.updated_at is not None
            and now - self.lookback <= m.updated_at <= now - self.grace
        ]
        seen = await self.operations.events_seen(STREAMSTACK, [m.uuid for m in candidates])
        found: list[tuple[str, str]] = []
        for item in candidates:
            event = STATUS_EVENTS[item.status]
            if event in seen.get(item.uuid, set()):
                continue
            notification = notification_for(item, event)
            recorded = await self.webhooks.record(
                Intake(
                    provider=STREAMSTACK,
                    event=event,
                    subject=item.uuid,
                    project=None,
                    dedupe_key=dedupe_key(STREAMSTACK, "reconciled", event, item.uuid),
                    raw_payload=reconciled_payload(notification),
                    notification=notification,
                    subject_key=f"{STREAMSTACK}:{item.uuid}",
                ),
                now,
                default_channel=self.default_channel,
            )
            if not recorded.duplicate:
                log.info("reconciliation found %s for video %s (no webhook)", event, item.uuid)
                found.append((event, item.uuid))
        return found

    async def run_once(self) -> list[tuple[str, str]] | None:
        """Reconcile if it is this replica's turn; None when another replica has it."""
        if not await self.turns.mine():
            return None
        return await self.reconcile()

    async def run(self) -> None:
        """Run every ``interval`` seconds until cancelled, first one interval after start-up.

        Nothing heavy runs while a replica starts (or a whole deploy restarts); from then on the
        turn picks one replica per interval.
        """
        await self.sleep(self.interval)
        await repeat("reconcile", self.run_once, interval=self.interval, sleep=self.sleep)
