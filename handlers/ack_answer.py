"""A slash command's answer in its ack, when the answer is ready in time.

Slack shows the body of a slash command's acknowledgement to the user exactly as
it shows a ``response_url`` post (``response_type`` ``ephemeral`` or
``in_channel``, text and blocks), and recommends answering there when the answer
is ready within the deadline. :class:`AckAnswer` is the ``respond`` a subcommand
gets: its first new message, if it comes within :data:`ANSWER_IN_ACK_SECONDS` of
the start, becomes the ack body, with no ``response_url`` post at all (one round
trip for the user, a ``response_url`` use saved, no follow-up HTTP request for the
bot). When the deadline passes first, or the first answer edits or deletes a
message (only a ``response_url`` post can), the ack goes out empty and every answer
is posted as before. Nothing slow holds the ack for longer than the deadline.

A replayed request must not read anything in its HTTP answer: the router waits for
the delivery's claim (``handlers.replay_guard``) before the subcommand runs, so only
the claimed delivery's ack carries an answer (:func:`bot.ack_runner.claim_before_answer`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.ack_runner import PostAckRunner

#: How long a subcommand may take to answer in its ack; past it, the ack goes out empty.
#: 0 turns answers in the ack off (every command acks at once and answers by a post).
ANSWER_IN_ACK_SECONDS = 0.5

#: ``respond()`` parameters an ack body can carry (Bolt's ``ack()`` takes the same names).
_ACK_FIELDS = ("text", "blocks", "attachments", "response_type", "unfurl_links", "unfurl_media")


class AckAnswer(AsyncRespond):
    """``respond()`` whose first new message, while the ack is still open, is the ack body."""

    def __init__(self, ack: AsyncAck, inner: AsyncRespond) -> None:
        super().__init__(response_url=inner.response_url, proxy=inner.proxy, ssl=inner.ssl)
        self.ack = ack
        self.inner = inner
        self.acked = False  # the ack is sent (with an answer, or empty) or on its way
        self._expired: asyncio.Future[Any] | None = None

    async def __call__(  # type: ignore[override]  # same parameters, passed through
        self, text: str | dict[str, Any] = "", **kwargs: Any
    ) -> WebhookResponse:
        """The first new message becomes the ack; anything else goes to ``response_url``."""
        if not self.acked:
            self.acked = True
            if fits_in_ack(text, kwargs):
                fields = {k: v for k, v in kwargs.items() if k in _ACK_FIELDS and v is not None}
                await self.ack(text=text, **fields)
                return WebhookResponse(
                    url=self.response_url or "", status_code=200, body="ok", headers={}
                )
            await self.ack()
        return await self.inner(text, **kwargs)

    def expire(self) -> None:
        """The deadline passed: ack empty now (if nothing did yet); later answers are posts."""
        if not self.acked:
            self.acked = True
            self._expired = asyncio.ensure_future(self.ack())

    async def finish(self) -> None:
        """The subcommand has ended: ack empty if nothing did yet."""
        if self._expired is not None:
            await self._expired
        elif not self.acked:
            self.acked = True
            await self.ack()


def fits_in_ack(text: str | dict[str, Any], kwargs: dict[str, Any]) -> bool:
    """True when a ``respond()`` call is a new message an ack body can carry."""
    if not isinstance(text, str):
        return False
    if kwargs.get("replace_original") or kwargs.get("delete_original"):
        return False
    if kwargs.get("thread_ts") or kwargs.get("metadata"):
        return False
    return bool(text or kwargs.get("blocks"))


def answers_in_ack(runner: object) -> bool:
    """Whether a command may answer in its ack now (else: ack at once, answer by a post).

    Not when :data:`ANSWER_IN_ACK_SECONDS` is 0, nor while Bolt's listener runner (the
    request context's ``listener_runner``) reports the event loop running late
    (:meth:`bot.ack_runner.PostAckRunner.keeping_up`): an ack must not wait for work the
    process is behind on, and a request held open counts against the admission cap.
    """
    if ANSWER_IN_ACK_SECONDS <= 0:
        return False
    return not isinstance(runner, PostAckRunner) or runner.keeping_up()


async def run_answering_in_ack(work: Awaitable[None], answer: AckAnswer) -> None:
    """Run ``work`` (which answers through ``answer``); the ack leaves within the deadline."""
    loop = asyncio.get_running_loop()
    timer = loop.call_later(ANSWER_IN_ACK_SECONDS, answer.expire)
    try:
        await work
    finally:
        timer.cancel()
        await answer.finish()
