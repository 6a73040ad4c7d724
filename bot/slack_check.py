"""Is the bot token good and Slack reachable? Checked at start-up and, cached, by ``/readyz``.

Bolt checks the token lazily, on the first request: with a revoked or mistyped
token the first slash command would fail after seconds. :func:`verify_bot_token`
calls ``auth.test`` before ``streamops serve`` accepts requests and turns a
refusal into one :class:`~bot.errors.ConfigError` line. :class:`SlackProbe`
answers readiness probes from a cached ``auth.test`` (one call per ``ttl``
seconds at most, however often the orchestrator asks).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError

log = logging.getLogger("streamops.slack")

#: auth.test errors that mean the token itself is wrong (retrying cannot help).
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}
)
OK = "ok"


def probe_client(slack: AsyncWebClient, timeout: int = 5) -> AsyncWebClient:
    """A copy of ``slack`` for checks: short timeout, no retry handlers (they would sleep)."""
    return AsyncWebClient(
        token=slack.token, base_url=slack.base_url, timeout=timeout, retry_handlers=[]
    )


async def auth_status(client: AsyncWebClient) -> str:
    """``"ok"``, Slack's error code (``invalid_auth``...), or ``unreachable (<reason>)``."""
    try:
        await client.auth_test()
    except SlackApiError as exc:
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    except Exception as exc:  # aiohttp.ClientError, timeouts, DNS: Slack cannot be reached
        return f"unreachable ({type(exc).__name__})"
    return OK


async def verify_bot_token(slack: AsyncWebClient) -> None:
    """Call ``auth.test`` once; raise :class:`ConfigError` when Slack refuses the token.

    When Slack cannot be reached the bot still starts (it has webhooks to take and
    an outbox to fill) and logs a warning; ``/readyz`` reports it.
    """
    status = await auth_status(probe_client(slack, timeout=10))
    if status in TOKEN_ERRORS:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN ({status}): copy the Bot User OAuth Token "
            "(xoxb-…) from the app's OAuth & Permissions page"
        )
    if status != OK:
        log.warning("Slack could not be checked at start-up: %s", status)
    else:
        log.info("Slack accepted the bot token")


class SlackProbe:
    """``auth.test`` for readiness, cached for ``ttl`` seconds (one call at a time)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._status: str | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def status(self) -> str:
        """The cached status; re-checked when older than ``ttl``."""
        async with self._lock:
            if self._status is None or self._clock() - self._checked_at >= self._ttl:
                self._status = await auth_status(self._client)
                self._checked_at = self._clock()
            return self._status
