"""Slack deliveries run once: Events API retries and replayed slash commands are dropped.

Slack retries an event it thinks was not received (``X-Slack-Retry-Num``), and a
signed slash-command request can be replayed by anyone who captured it, within
the five-minute signature window. Bolt deduplicates neither. :func:`replay_guard`
is a Bolt global middleware that claims each delivery once in the database
(shared by every replica, :class:`~storage.coordination.ClaimStore`): events by
their ``event_id``, slash commands by their ``trigger_id`` (Slack issues a new
one per invocation). A delivery already claimed is answered 200 with nothing
run, so Slack stops retrying and a replay does nothing. A delivery whose ids hold a
NUL or a lone surrogate (no Slack id does; no column can store them) gets 400.

An event is claimed before its ack: if the claim fails (database down), Slack gets
an error and retries it later. A slash command's claim is *deferred*
(:func:`bot.ack_runner.defer_claim`) when the app's listener runner is the
:class:`~bot.ack_runner.PostAckRunner` that awaits it: its INSERT runs while the ack goes out,
and the listener's ``await ack()`` returns only once the claim is won — a lost
one stops the listener right there, and one that cannot be written (database
down) stops it too, with an ephemeral "nothing was run, try again" to the user.
Every command listener (the routers of ``handlers.router``) answers usage errors in
the ack before the claim (a replay may repeat them harmlessly); before running
anything else, and so before answering in the ack body, it waits for the claim
(:func:`bot.ack_runner.claim_before_answer`), so a replayed request's own HTTP answer
is always empty. Slack never retries a slash command, so settling the claim while the
ack is open loses no retry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from slack_bolt.response import BoltResponse

from bot.ack_runner import PostAckRunner, defer_claim
from bot.storable import storable

log = logging.getLogger("streamops.replay")

Middleware = Callable[..., Awaitable[BoltResponse | None]]


class Claims(Protocol):
    """The one-shot claim primitive (``ClaimStore``)."""

    async def claim(self, key: str, actor_id: str) -> bool: ...


COMMAND_PREFIX = "slack-command:"


def delivery_key(body: dict[str, Any]) -> str | None:
    """The claim key of a Slack delivery that must run once, or None."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"slack-event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"{COMMAND_PREFIX}{body['trigger_id']}"
    return None


def replay_guard(claims: Claims) -> Middleware:
    """The middleware: claim the delivery, or answer a duplicate with an empty 200."""

    async def guard(
        body: dict[str, Any],
        context: dict[str, Any],
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        key = delivery_key(body)
        if key is None:
            return await next()
        user = str(body.get("user_id") or "slack")[:64]
        try:  # a NUL (PostgreSQL refuses it) or a lone surrogate: no Slack id has one
            storable(key)
            storable(user)
        except ValueError:
            log.info("refused a Slack delivery whose ids no column can hold")
            return BoltResponse(status=400, body="malformed delivery id")
        if key.startswith(COMMAND_PREFIX) and isinstance(
            context.get("listener_runner"), PostAckRunner
        ):  # the runner awaits the claim after the ack; any other runner: claimed here
            defer_claim(context, claims.claim(key[:255], user))
            return await next()
        if await claims.claim(key[:255], user):
            return await next()
        log.info("dropped a repeated Slack delivery (%s)", key.split(":", 1)[0])
        return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})

    return guard
