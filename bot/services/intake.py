"""Webhook intake: store a parsed provider webhook, its notifications and its side writes.

The receiver (``handlers.webhooks``) checks the token, size, signature and shape;
:meth:`WebhookIntake.receive` then writes, in one transaction, the delivery
(deduplicated), its outbox rows (routed to the subscribed channels by
:class:`storage.webhooks.WebhookStore`) and, for a Streampixel build event, the
rows that keep ``/build builds`` and the release timeline current.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.webhooks.parse import WebhookEvent
from storage.builds import BuildStore
from storage.db import Database, Write
from storage.operations import DUPLICATE, REFUSED
from storage.timeline import TimelineStore
from storage.webhooks import Intake, Recorded, WebhookStore

__all__ = ["DUPLICATE", "REFUSED", "WebhookIntake"]


class WebhookIntake:
    """Stores parsed webhooks.

    Args:
        db: the shared database.
        clock: the current time (the receive time).
        default_channel: where notifications go when no subscription matches.
    """

    def __init__(
        self, db: Database, clock: Callable[[], datetime], default_channel: str | None
    ) -> None:
        self.store = WebhookStore(db)
        self.builds = BuildStore(db)
        self.timeline = TimelineStore(db)
        self.clock = clock
        self.default_channel = default_channel

    async def receive(self, event: WebhookEvent, body: bytes) -> Recorded:
        """Store ``event`` (received as ``body``) once; a repeated delivery changes nothing."""
        return await self.store.record(
            Intake(
                provider=event.provider,
                event=event.event,
                subject=event.subject,
                project=event.project,
                dedupe_key=event.dedupe_key,
                raw_payload=body.decode("utf-8", errors="replace"),
                notification=event.notification if event.known else None,
                subject_key=event.subject_key,
                also=self._build_list_update(event),
            ),
            self.clock(),
            default_channel=self.default_channel,
        )

    def _build_list_update(self, event: WebhookEvent) -> tuple[Write, ...] | None:
        """For a Streampixel build event: the writes that keep `/build builds` current.

        They run in the intake transaction, so the build list, the release timeline
        (a ``build.distributing`` makes its build the live one) and the stored
        delivery never disagree. The fields come from the parsed (validated) event.
        """
        if not (
            event.provider == "streampixel"
            and event.known
            and event.subject
            and event.project
            and event.event.startswith("build.")
        ):
            return None
        fields = event.notification
        at = _moment(fields.timestamp) or self.clock()
        known = self.builds.pipeline_write(
            event.project,
            event.subject,
            fields.status or event.event.removeprefix("build."),
            fields.file_url,
            fields.objection,
            at,
        )
        if event.event == "build.distributing":
            return known, self.timeline.live_write(event.project, event.subject, at)
        return (known,)


def _moment(timestamp: str | None) -> datetime | None:
    """The webhook's ISO 8601 ``timestamp`` in UTC; None when unreadable or out of range."""
    try:
        at = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError):  # "9999-12-31T23:59:59-01:00" is past year 9999 in UTC
        return None
