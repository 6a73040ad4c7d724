"""``respond()`` on one pooled HTTP session: every ``response_url`` post of the process.

Bolt's ``respond()`` builds a new ``aiohttp.ClientSession`` — and opens a new
TCP (and TLS) connection — for every call; on a slash command that answers once,
that is most of the follow-up's CPU. :class:`ResponseSession` is one session,
owned by the container (:class:`bot.container.Container` closes it at
shutdown), opened on first use in the running loop; :class:`PooledRespond` is
Bolt's ``respond()`` posting through it. The message is built by Bolt's own
``_build_message`` and sent by slack_sdk's ``AsyncWebhookClient`` (with its
default retry of one connection error, as Bolt's ``respond()`` has), so only
the connection handling differs.

Idle pooled connections are dropped after :data:`KEEPALIVE_SECONDS`, below the
idle timeout of common HTTP servers (uvicorn: 5 s), so a post is not sent on a
connection the server is closing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.webhook.async_client import AsyncWebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

#: Seconds an idle pooled connection is kept (below uvicorn's 5 s keep-alive timeout).
KEEPALIVE_SECONDS = 4.0
#: Connections open at once (posts past it wait for one).
MAX_CONNECTIONS = 64
#: Seconds one post may take in all (Bolt's ``respond()`` default).
TIMEOUT_SECONDS = 30


class ResponseSession:
    """One ``aiohttp.ClientSession`` for every ``response_url`` post, opened on first use."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> aiohttp.ClientSession:
        """The shared session, created in the running loop the first time (or after a close)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            )
            self._loop = loop
        return self._session

    @property
    def opened(self) -> bool:
        """Whether a session is open now."""
        return self._session is not None and not self._session.closed

    async def aclose(self) -> None:
        """Close the session, if one was opened (in this loop)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class PooledRespond(AsyncRespond):
    """Bolt's ``respond()``, posting through a :class:`ResponseSession` (keep-alive, no setup)."""

    def __init__(self, *, response_url: str | None, pool: ResponseSession, **kwargs: Any) -> None:
        super().__init__(response_url=response_url, **kwargs)
        self.pool = pool

    async def __call__(  # type: ignore[override]  # same parameters, passed through
        self, text: str | dict[str, Any] = "", **kwargs: Any
    ) -> WebhookResponse:
        """Post to ``response_url`` as Bolt does, on the pooled session."""
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = AsyncWebhookClient(
            url=self.response_url, proxy=self.proxy, ssl=self.ssl, session=self.pool.get()
        )
        if isinstance(text, dict):
            return await client.send_dict(_build_message(**text))
        return await client.send_dict(_build_message(text=text, **kwargs))
