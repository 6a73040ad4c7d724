"""``respond()`` that never fails silently.

Bolt's ``respond()`` posts to the request's ``response_url`` and returns
Slack's answer without raising, so a refused post (the URL used more than 5
times or older than 30 minutes: ``used_url``/``expired_url``; blocks over
Slack's limits: ``invalid_blocks``) would simply vanish. :func:`guard_respond`
is a Bolt global middleware that swaps in :class:`GuardedRespond`, which logs
every refusal (status and Slack's reason, never the URL: it is a credential)
and, when the message itself was refused, sends the user a short plain-text
note instead, so they learn that something was not shown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.webhook_response import WebhookResponse

log = logging.getLogger("streamops.respond")

#: Refusals caused by the message itself: a short text-only note can still be shown.
_MESSAGE_REFUSALS = ("invalid_blocks", "msg_too_long", "no_text", "invalid_payload")


class GuardedRespond(AsyncRespond):
    """``respond()`` that logs Slack's refusals and tells the user when a message was refused.

    It wraps another ``respond`` (Bolt's, or a pooled one: see :meth:`around`).
    """

    def __init__(self, inner: AsyncRespond) -> None:
        super().__init__(response_url=inner.response_url, proxy=inner.proxy, ssl=inner.ssl)
        self.inner = inner

    def around(self, inner: AsyncRespond) -> GuardedRespond:
        """The same guard around another ``respond`` (a runner swapping in its own)."""
        return GuardedRespond(inner)

    async def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        response: WebhookResponse = await self.inner(*args, **kwargs)
        if response.status_code == 200:
            return response
        reason = (response.body or "").strip()[:100] or f"http_{response.status_code}"
        log.warning("Slack refused a response_url post: HTTP %s %s", response.status_code, reason)
        if any(reason.startswith(r) for r in _MESSAGE_REFUSALS):
            note = await self.inner(
                text=(
                    f":x: Slack refused to show this answer ({reason}). "
                    "It has been logged; please report it."
                ),
                response_type="ephemeral",
                replace_original=False,
            )
            if note.status_code != 200:
                log.warning("the refusal note was refused too: HTTP %s", note.status_code)
        return response


async def guard_respond(
    context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
) -> BoltResponse:
    """Bolt global middleware: every listener's ``respond`` is a :class:`GuardedRespond`."""
    if context.response_url:
        context["respond"] = GuardedRespond(
            AsyncRespond(
                response_url=context.response_url,
                proxy=context.client.proxy if context.client else None,
                ssl=context.client.ssl if context.client else None,
            )
        )
    return await next()
