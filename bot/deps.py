"""Everything the handlers need, built once by the composition root."""

from __future__ import annotations

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
from bot.settings import Settings
from storage.db import Database
from storage.roles import RoleStore

Clock = Callable[[], datetime]
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def make_slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: base URL from settings, SDK retry handlers for 429s and resets."""
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
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
    clock: Clock = utcnow
    background: list[BackgroundJob] = field(default_factory=list)

    async def aclose(self) -> None:
        """Release every connection the dependencies hold."""
        await self.db.dispose()


def build_deps(settings: Settings) -> Deps:
    """Create the dependencies from settings (no I/O happens here)."""
    from storage.audit import AuditLog  # type: ignore[import-not-found]  # lands with the audit branch

    from bot import outbox

    db = Database(settings.database_url)
    deps = Deps(
        settings=settings,
        db=db,
        slack=make_slack_client(settings),
        authz=Authorizer(settings.admins, RoleStore(db)),
        audit=AuditLog(db),
    )
    outbox.install(deps)
    return deps
