"""Everything the handlers need, built once by the composition root."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Auditor
from bot.authz import Authorizer
from bot.jobs.tallies import TallyBuffer
from bot.metrics import Metrics
from bot.providers.metered import MeteredTransport
from bot.providers.streamapi import StreamAPIClient
from bot.providers.streamapi import from_settings as streamapi_from_settings
from bot.providers.streampixel import StreampixelClient
from bot.providers.streampixel import from_settings as streampixel_from_settings
from bot.providers.streamstack import StreamStackClient
from bot.providers.streamstack import from_settings as streamstack_from_settings
from bot.settings import Settings
from bot.slack_errors import SlackErrorMeter
from storage.audit import AuditLog
from storage.coordination import ClaimStore
from storage.db import Database
from storage.roles import RoleStore
from storage.streamapi_rid import DatabaseRidSource

Clock = Callable[[], datetime]
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def make_slack_client(settings: Settings, metrics: Metrics | None = None) -> AsyncWebClient:
    """The Web API client: base URL from settings, SDK retry handlers for 429s and resets.

    With ``metrics``, every failed call is counted by method and error (first handler).
    """
    meter = [SlackErrorMeter(metrics)] if metrics is not None else []
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            *meter,
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Deps:
    """The composition root's handles: settings, storage, Slack and provider clients.

    Attributes:
        background: long-running jobs (outbox delivery, pollers) the app's
            lifespan starts after start-up and cancels at shutdown.
    """

    settings: Settings
    db: Database
    slack: AsyncWebClient
    authz: Authorizer
    audit: Auditor
    claims: ClaimStore
    tallies: TallyBuffer
    streamapi: StreamAPIClient | None = None
    streamstack: StreamStackClient | None = None
    streampixel: StreampixelClient | None = None
    clock: Clock = utcnow
    metrics: Metrics = field(default_factory=Metrics)
    background: list[BackgroundJob] = field(default_factory=list)

    async def aclose(self) -> None:
        """Release every connection the dependencies hold."""
        for client in (self.streamapi, self.streamstack, self.streampixel):
            if client is not None:
                await client.aclose()
        await self.db.dispose()


def build_deps(
    settings: Settings, *, db: Database | None = None, audit: Auditor | None = None
) -> Deps:
    """Create the dependencies from settings (no I/O happens here).

    Args:
        db: an already-open database (tests pass theirs); built from settings if omitted.
        audit: the auditor; the database-backed audit log if omitted.
    """
    from bot import live_poller, outbox
    from bot.jobs import reconcile, retention

    db = db or Database(settings.database_url)
    background: list[BackgroundJob] = []
    if audit is None:
        # Written after the ack by every handler, so a direct, durable write
        # never delays Slack (an in-memory queue would lose rows on a crash).
        audit_log = AuditLog(db, keys=settings.audit_keys())
        audit = audit_log
        background.append(lambda: checkpoint_periodically(audit_log))
    metrics = Metrics()
    tallies = TallyBuffer(db, clock=utcnow)
    background.append(tallies.run)

    def metered(provider: str) -> MeteredTransport:
        return MeteredTransport(provider, metrics, max_connections=settings.http_max_connections)

    deps = Deps(
        settings=settings,
        db=db,
        slack=make_slack_client(settings, metrics),
        authz=Authorizer(settings.admins, RoleStore(db)),
        audit=audit,
        claims=ClaimStore(db),
        tallies=tallies,
        streamapi=streamapi_from_settings(
            settings, rids=DatabaseRidSource(db), transport=metered("streamapi")
        ),
        streamstack=streamstack_from_settings(settings, transport=metered("streamstack")),
        streampixel=streampixel_from_settings(settings, transport=metered("streampixel")),
        background=background,
        metrics=metrics,
    )
    outbox.install(deps)
    live_poller.install(deps)
    retention.install(deps)
    reconcile.install(deps)
    return deps


async def checkpoint_periodically(log: AuditLog, every: float = 300.0) -> None:
    """Checkpoint the audit chain head every ``every`` seconds (makes truncation detectable)."""
    while True:
        await asyncio.sleep(every)
        try:
            await log.checkpoint()
        except Exception:  # keep checkpointing after a transient database error
            logging.getLogger("streamops.audit").exception("audit checkpoint failed")
