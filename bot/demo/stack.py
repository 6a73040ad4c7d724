"""Everything ``streamops demo`` runs, in one process on loopback ports.

The fake Slack Web API, the three provider simulators (with their demo data;
Streampixel and StreamStack post webhooks to the bot) and the real bot
(:func:`bot.app.create_app`, migrations applied), wired together by settings
the demo builds itself: no Slack or provider account, and nothing read from
the environment. Every run starts clean: the database is a new SQLite file in
a temporary folder (removed afterwards) unless a file is named, so no role,
rate slot or build of an earlier run is carried over, just as the simulators
start afresh.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app import create_app
from bot.demo.conversation import Channel
from bot.demo.slack_payloads import SlackRequests
from bot.demo.users import ADMIN, PREDEFINED, RELEASER
from bot.sandbox.runner import Sandbox, run_sandbox
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import BackgroundServer, serve_in_background
from bot.settings import Settings
from storage import migrate
from storage.audit_keys import generate_key

#: Where the console types, and where notifications go (the default channel).
CHANNEL = Channel("C0DEMOOPS", "streamops-demo")
_BOT_TOKEN = "demo-bot-token-not-real"  # noqa: S105 (the demo's fake Slack issued it)
#: Streampixel's upload/distribute window in the demo (the real one is 120 s), whatever the
#: pace: long enough that the walkthrough's rollback, clicked seconds after a distribution,
#: always finds the slot in use and is queued; short enough that the queued run comes soon.
DEMO_RATE_WINDOW_SECONDS = 15.0


@dataclass
class DemoStack:
    """Handles on the running demo.

    Attributes:
        bot_url: base URL of the bot (``/slack/events``, ``/webhooks/...``).
        slack: the fake Slack the bot posts to.
        slack_url: base URL of the fake Slack (``response_url``s point here).
        requests: signs requests with the bot's signing secret.
        settings: the settings the bot runs with.
        sandbox: the provider simulators (drive them to show failures).
    """

    bot_url: str
    slack: FakeSlack
    slack_url: str
    requests: SlackRequests
    settings: Settings
    sandbox: Sandbox


class _Deferred:
    """An ASGI app whose target is set after its server has a port (the URL is needed first)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("the demo bot is not built yet")
        await self.app(scope, receive, send)


def demo_settings(
    *,
    slack_url: str,
    database_url: str,
    webhook_token: str,
    provider_settings: dict[str, str],
    rate_window_seconds: float = DEMO_RATE_WINDOW_SECONDS,
) -> Settings:
    """The bot's settings for the demo, built literally (no environment, no ``.env``)."""
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": _BOT_TOKEN,
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "SLACK_API_URL": f"{slack_url}/api/",
        "DATABASE_URL": database_url,
        "STREAMOPS_ADMINS": ADMIN.id,
        "STREAMOPS_WEBHOOK_TOKEN": webhook_token,
        "STREAMOPS_DEFAULT_CHANNEL": CHANNEL.id,
        "STREAMOPS_LOG_LEVEL": "WARNING",
        # A fresh audit key per run: the demo's log is keyed like production's.
        "STREAMOPS_AUDIT_KEY": generate_key(),
        # The bot keeps the simulator's (shortened) Streampixel window.
        "STREAMPIXEL_RATE_WINDOW_SECONDS": rate_window_seconds,
        **provider_settings,
    }
    return Settings(_env_file=None, **values)


def _set_pace(sandbox: Sandbox, pace: float) -> None:
    """Scale how long the simulated pipelines take (1.0 = the simulators' own timings)."""
    timings = sandbox.streampixel.timings
    sandbox.streampixel.set_timings(
        downloading=timings.downloading * pace,
        extracting=timings.extracting * pace,
        saving=timings.saving * pace,
        distributing=timings.distributing * pace,
    )
    delays = sandbox.streamstack.delays
    delays.transcode *= pace
    delays.publish *= pace


def sqlite_url(path: Path) -> str:
    """The database URL of an SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


@contextlib.asynccontextmanager
async def _database(database_url: str | None) -> AsyncIterator[str]:
    """``database_url``, or a fresh SQLite file in a temporary folder removed afterwards."""
    if database_url is not None:
        yield database_url
        return
    with tempfile.TemporaryDirectory(prefix="streamops-demo-") as folder:
        yield sqlite_url(Path(folder) / "streamops-demo.db")


async def _grant_demo_roles(stack: DemoStack, http: httpx.AsyncClient) -> None:
    """The admin grants the releaser its role, through the real command (so it is audited)."""
    rid = "demo-setup"
    request = stack.requests.slash_command(
        "/streamops", f"roles grant <@{RELEASER.id}> releaser", user_id=ADMIN.id,
        user_name=ADMIN.name, channel_id=CHANNEL.id, channel_name=CHANNEL.name,
        response_url=f"{stack.slack_url}/response/{rid}",
    )  # fmt: skip
    response = await http.post(
        f"{stack.bot_url}/slack/events", content=request.body, headers=request.headers
    )
    response.raise_for_status()
    if response.content.strip():  # answered in the ack: the grant is done
        return

    def answered(slack: FakeSlack) -> bool:
        return any(p.get("_response_id") == rid for p in slack.calls_to("response_url"))

    if not answered(stack.slack):
        await stack.slack.wait_for(answered, within=10.0)


@contextlib.asynccontextmanager
async def run_demo_stack(
    database_url: str | None = None, *, pace: float = 1.0, slack: FakeSlack | None = None
) -> AsyncIterator[DemoStack]:
    """Start the fake Slack, the simulators and the bot; stop them all afterwards.

    Args:
        database_url: the bot's database; by default a new SQLite file in a temporary
            folder, deleted when the demo ends. Migrations are applied before the bot
            accepts requests.
        pace: multiplies the simulators' pipeline stage durations (tests use a small one).
        slack: the fake Slack to use (the web view passes one it observes).
    """
    if slack is None:
        slack = FakeSlack()
    slack.users.update({user.id: user.name for user in PREDEFINED.values()})
    if slack.token is None:  # the demo's workspace issued the bot its token
        slack.token = _BOT_TOKEN
    webhook_token = secrets.token_urlsafe(16)
    bot_app = _Deferred()
    bot_server = BackgroundServer(bot_app)
    async with (
        _database(database_url) as database,
        serve_in_background(create_fake_slack(slack)) as slack_server,
        run_sandbox(webhook_base=bot_server.url, webhook_token=webhook_token) as sandbox,
    ):
        _set_pace(sandbox, pace)
        settings = demo_settings(
            slack_url=slack_server.url,
            database_url=database,
            webhook_token=webhook_token,
            provider_settings=sandbox.settings,
        )
        sandbox.streampixel.rate_limit_seconds = settings.streampixel_rate_window_seconds
        app = create_app(settings)
        await migrate.upgrade(app.state.container.db)
        bot_app.app = app
        try:
            await bot_server.start()
            requests = SlackRequests(
                settings.slack_signing_secret.get_secret_value(),
                issue_trigger_id=slack.issue_trigger_id,
            )
            stack = DemoStack(bot_server.url, slack, slack_server.url, requests, settings, sandbox)
            async with httpx.AsyncClient(timeout=30.0) as http:
                await _grant_demo_roles(stack, http)
            yield stack
        finally:
            await bot_server.stop()
