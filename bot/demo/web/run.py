"""``streamops demo --web``: start the demo and serve its page until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from bot.demo.stack import CHANNEL, DemoStack, run_demo_stack
from bot.demo.users import ADMIN, PREDEFINED, RELEASER, VIEWER
from bot.demo.web.app import create_web_app
from bot.demo.web.feed import ObservedSlack
from bot.demo.web.present import Person
from bot.demo.web.sender import Sender
from bot.demo.workspace import Workspace
from bot.serving import BackgroundServer, serve_in_background

#: The user switcher: who each demo user is.
PEOPLE: list[Person] = [
    (ADMIN.id, ADMIN.name, "may do everything (listed in STREAMOPS_ADMINS)"),
    (RELEASER.id, RELEASER.name, "may upload, distribute and roll back builds"),
    (VIEWER.id, VIEWER.name, "holds no role: may look, not touch"),
]


@dataclass
class WebDemo:
    """The running demo and its page."""

    stack: DemoStack
    workspace: Workspace
    server: BackgroundServer

    @property
    def url(self) -> str:
        """Where the page is."""
        return self.server.url


@contextlib.asynccontextmanager
async def run_web_demo(
    *, host: str = "127.0.0.1", port: int = 0, database_url: str | None = None,
    pace: float = 1.0, long_poll: float = 20.0,
) -> AsyncIterator[WebDemo]:  # fmt: skip
    """Start the demo (:func:`bot.demo.stack.run_demo_stack`) and serve its page."""
    workspace = Workspace({CHANNEL.id: CHANNEL.name}, {u.id: u.name for u in PREDEFINED.values()})
    slack = ObservedSlack(workspace=workspace)
    async with (
        run_demo_stack(database_url, pace=pace, slack=slack) as stack,
        httpx.AsyncClient(timeout=30.0) as http,
    ):
        sender = Sender(http, stack.bot_url, stack.slack_url, stack.requests, workspace)
        app = create_web_app(
            workspace, sender, people=PEOPLE, home_channel=CHANNEL.id, long_poll=long_poll
        )
        try:
            async with serve_in_background(app, host, port) as server:
                yield WebDemo(stack, workspace, server)
                workspace.close()  # end the page's long polls so the server can stop
        finally:
            workspace.close()


async def serve_web_demo(*, host: str, port: int, database_url: str | None, pace: float) -> int:
    """Serve the page and say where it is; runs until interrupted."""
    async with run_web_demo(host=host, port=port, database_url=database_url, pace=pace) as demo:
        print(f"StreamOps demo: open {demo.url} in your browser (Ctrl-C stops it).", flush=True)
        await asyncio.Event().wait()
    return 0
