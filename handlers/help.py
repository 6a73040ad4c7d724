"""``/streamops help``: usage of every command."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from handlers.router import Invocation, Routers


def register(routers: Routers) -> None:
    """Add ``help`` to ``/streamops``, covering every command's subcommands."""

    @routers.streamops.sub("help", "help", "usage of every StreamOps command", max_args=0)
    async def help_(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        text = "\n\n".join(r.usage() for r in routers.all() if r.subcommands)
        await respond(text=text, response_type="ephemeral")
