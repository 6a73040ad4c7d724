"""A running bot wired to the real StreamStack and StreamAPI simulators, and reply helpers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.sandbox import streamapi as streamapi_sandbox
from bot.sandbox import streamstack as streamstack_sandbox
from bot.sandbox.streamapi import StreamAPISimulator
from bot.sandbox.streamstack import StageDelays, StreamStackSimulator
from bot.sandbox.streamstack_state import SimMedia
from bot.serving import serve_in_background
from storage.db import Database
from tests.harness import Bot, running_bot

MEDIA_USER = "UMEDIA01"
VIEWER = "UVIEWER1"


@dataclass
class Recorded:
    """An ASGI wrapper noting ``(method, path)`` of every HTTP request that reaches ``app``."""

    app: Any
    requests: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    def count(self, method: str, path_prefix: str = "") -> int:
        """How many ``method`` requests reached a path starting with ``path_prefix``."""
        return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))


@dataclass
class Stack:
    """The bot and both simulators behind it, with the requests that reached them."""

    bot: Bot
    streamstack: StreamStackSimulator
    streamapi: StreamAPISimulator
    streamstack_http: Recorded
    streamapi_http: Recorded

    def replies(self) -> list[dict[str, Any]]:
        """Everything the bot sent to response URLs, in order."""
        return self.bot.slack.calls_to("response_url")

    async def reply_count(self, count: int) -> list[dict[str, Any]]:
        """Wait until ``count`` replies arrived; return them all."""
        await self.bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) >= count)
        return self.replies()

    async def command(self, command: str, text: str, user_id: str) -> dict[str, Any]:
        """Send a slash command and return the reply it caused."""
        before = len(self.replies())
        response = await self.bot.command(command, text, user_id=user_id)
        assert response.status_code == 200, response.text
        return (await self.reply_count(before + 1))[before]

    def events(self, action: str | None = None) -> list[Any]:
        """Audit events recorded so far (of one action, if given)."""
        events = self.bot.container.audit.events  # type: ignore[attr-defined]
        return [e for e in events if action is None or e.action == action]


def acme(stack: Stack, title: str) -> SimMedia:
    """The demo tenant's video called ``title``."""
    return next(m for m in stack.streamstack.media.values() if m.title == title)


def globex(stack: Stack) -> SimMedia:
    """The other tenant's video (our key may not touch it)."""
    return next(m for m in stack.streamstack.media.values() if m.tenant == "globex")


def text_of(reply: dict[str, Any]) -> str:
    """The fallback text and every block of a reply, as one searchable string."""
    return reply.get("text", "") + "\n" + json.dumps(reply.get("blocks", []), ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in ``blocks`` (accessories and actions elements)."""
    found = []
    for block in blocks:
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.append(element)
    return found


@contextlib.asynccontextmanager
async def running_stack(
    database: Database,
    *,
    streamstack: bool = True,
    streamapi: bool = True,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> AsyncIterator[Stack]:
    """The simulators asked for (demo data, instant pipelines) and the bot wired to them.

    A simulator not asked for is left unconfigured (its client is None), which
    keeps each test to the servers it needs.
    """
    stack_sim = StreamStackSimulator.with_demo_data(delays=StageDelays(transcode=0, publish=0))
    api_sim = StreamAPISimulator.with_demo_data()
    ss_http = Recorded(streamstack_sandbox.create_app(stack_sim))
    sa_http = Recorded(streamapi_sandbox.create_app(api_sim))
    settings: dict[str, Any] = dict(overrides)
    async with contextlib.AsyncExitStack() as servers:
        if streamstack:
            ss_server = await servers.enter_async_context(serve_in_background(ss_http))
            settings["STREAMSTACK_API_KEY"] = streamstack_sandbox.DEMO_API_KEY
            settings["STREAMSTACK_BASE_URL"] = ss_server.url
        if streamapi:
            sa_server = await servers.enter_async_context(serve_in_background(sa_http))
            settings["STREAMAPI_KEY"] = streamapi_sandbox.DEMO_API_KEY
            settings["STREAMAPI_SECRET"] = streamapi_sandbox.DEMO_SECRET
            settings["STREAMAPI_BASE_URL"] = f"{sa_server.url}{streamapi_sandbox.BASE_PATH}"
        if clock is not None:
            settings["clock"] = clock
        bot = await servers.enter_async_context(running_bot(database, **settings))
        await bot.container.authz.store.grant(MEDIA_USER, "media", granted_by="UADMIN01")
        yield Stack(bot, stack_sim, api_sim, ss_http, sa_http)
