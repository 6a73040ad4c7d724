"""Slack request plumbing every handler shares: who is asking, what was clicked, click listeners."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.container import Container
from bot.redact import protect_transient
from bot.services.actor import Actor
from bot.services.oneshot import Button
from handlers.router import Invocation, run_safely

#: Where slack_sdk logs every ``respond()`` body at DEBUG; bot.redact's list misses it.
RESPOND_LOGGER = "slack_sdk.webhook.async_client"

ClickWork = Callable[[dict[str, Any], Container, AsyncRespond], Awaitable[None]]
ClickListener = Callable[[AsyncAck, dict[str, Any], AsyncRespond], Awaitable[None]]


def actor_of_command(inv: Invocation, now: datetime) -> Actor:
    """The actor behind a slash command."""
    return Actor(
        user_id=inv.user_id,
        source="slash_command",
        requested_at=now,
        user_name=inv.user_name,
        team_id=inv.team_id,
        channel_id=inv.channel_id,
        correlation_id=inv.correlation_id,
    )


def actor_of_click(body: dict[str, Any], now: datetime) -> Actor:
    """The actor behind a ``block_actions`` click."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Actor(
        user_id=str(user.get("id", "")),
        source="button",
        requested_at=now,
        user_name=str(user.get("username") or user.get("name") or ""),
        team_id=str(team.get("id") or user.get("team_id") or ""),
        channel_id=str((body.get("channel") or {}).get("id") or ""),
        correlation_id=uuid.uuid4().hex,
    )


def clicked_value(body: dict[str, Any]) -> str:
    """The ``value`` of the clicked button (or of the option chosen in a select menu)."""
    action = (body.get("actions") or [{}])[0]
    chosen = action.get("selected_option")
    if isinstance(chosen, dict):
        return str(chosen.get("value") or "")
    return str(action.get("value") or "")


def message_ts(body: dict[str, Any]) -> str:
    """The ts of the message holding the clicked button."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    return str(container.get("message_ts") or message.get("ts") or "")


def button_of(body: dict[str, Any]) -> Button:
    """The clicked button's place: its channel and message (a one-shot button's identity)."""
    return Button(str((body.get("channel") or {}).get("id") or ""), message_ts(body))


def message_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The blocks of the message holding the clicked button (empty for ephemeral ones)."""
    blocks = (body.get("message") or {}).get("blocks")
    return list(blocks) if isinstance(blocks, list) else []


def is_ephemeral(body: dict[str, Any]) -> bool:
    """Whether the clicked button sits on an ephemeral message."""
    return bool((body.get("container") or {}).get("is_ephemeral"))


def click_listener(work: ClickWork, container: Container) -> ClickListener:
    """A Bolt action listener: ack at once, then run ``work`` with failures shown in words."""

    async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await run_safely(work(body, container, respond), respond)

    return listener


def keep_out_of_logs(*secrets: str | None) -> None:
    """Mask ``secrets`` in every log record, including slack_sdk's DEBUG log of reply bodies.

    Call it before ``respond()`` carries a per-request secret (a private host
    id, an encoder key, a presigned URL) to the requester.
    """
    protect_transient(*secrets, loggers=(RESPOND_LOGGER,))
