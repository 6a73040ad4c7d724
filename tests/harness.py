"""The running bot under test: real ASGI app on loopback, fake Slack Web API beside it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from slack_bolt.async_app import AsyncApp

from bot.app import create_app
from bot.audit import Auditor
from bot.container import Clock, Container, utcnow
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import BackgroundServer, serve_in_background
from bot.settings import Settings
from storage.audit_keys import generate_key
from storage.db import Database
from tests import slack_requests
from tests.fakes import RecordingAuditor

BOT_TOKEN = "xoxb-test-not-a-real-token"
ADMIN = "UADMIN01"


@dataclass
class Bot:
    """Handles on a running bot: its URL, the fake Slack it talks to, its container."""

    server: BackgroundServer
    slack: FakeSlack
    slack_server: BackgroundServer
    container: Container
    http: httpx.AsyncClient
    bolt: AsyncApp

    @property
    def deps(self) -> Container:
        """The container (its former name, kept for tests written before it)."""
        return self.container

    @property
    def url(self) -> str:
        """Base URL of the bot's HTTP server."""
        return self.server.url

    def response_url(self, name: str = "cmd") -> str:
        """A ``response_url`` that lands in the fake Slack."""
        return f"{self.slack_server.url}/response/{name}"

    async def post_signed(self, body: bytes, **header_kwargs: Any) -> httpx.Response:
        """POST a correctly signed request to ``/slack/events``."""
        headers = slack_requests.signed_headers(body, **header_kwargs)
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=headers)

    async def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        """Send a signed slash command whose ``response_url`` points at the fake Slack.

        As Slack does, the fake Slack shows a non-empty ack body to the user like a
        ``response_url`` post (:meth:`FakeSlack.show_ack`): an answer given in the ack
        is among the fake Slack's ``response_url`` calls (``_in_ack`` set).
        """
        kwargs.setdefault("response_url", self.response_url())
        kwargs.setdefault("trigger_id", self.slack.issue_trigger_id())
        body = slack_requests.slash_command(command, text, **kwargs)
        return await self.post_command(body, kwargs["response_url"])

    async def post_command(
        self, body: bytes, response_url: str, slack: FakeSlack | None = None
    ) -> httpx.Response:
        """POST a signed slash command; its ack body is shown by ``slack`` (default: ours)."""
        response = await self.post_signed(body)
        if response.status_code == 200:
            content_type = response.headers.get("content-type", "")
            await (slack or self.slack).show_ack(response_url, response.content, content_type)
        return response

    async def click(self, action_id: str, value: str, **kwargs: Any) -> httpx.Response:
        """Send a signed ``block_actions`` click."""
        kwargs.setdefault("response_url", self.response_url("action"))
        kwargs.setdefault("trigger_id", self.slack.issue_trigger_id())
        return await self.post_signed(slack_requests.block_actions(action_id, value, **kwargs))


#: This test run's audit key (never a fixed one: a key in the repository would be public).
AUDIT_KEY = generate_key()


def make_settings(database_url: str, slack_api_url: str, **overrides: Any) -> Settings:
    """Settings for tests, built literally (the environment is not consulted for these)."""
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": slack_requests.SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "DATABASE_URL": database_url,
        "STREAMOPS_ADMINS": ADMIN,
        "STREAMOPS_WEBHOOK_TOKEN": "webhook-token-0123456789",
        "STREAMOPS_DEFAULT_CHANNEL": "C0DEFAULT",
        # Tests that want the StreamAPI poller run it themselves.
        "STREAMOPS_STREAMAPI_POLL_SECONDS": "0",
        # Likewise StreamStack reconciliation and retention (tests drive those jobs directly).
        "STREAMOPS_RECONCILE_MINUTES": "0",
        "STREAMOPS_RETENTION_DAYS": "0",
        # Tests change simulator state between reads; they see it at once.
        "STREAMOPS_PROVIDER_CACHE_SECONDS": "0",
        # Every test run makes its own audit key, as production must have one.
        "STREAMOPS_AUDIT_KEY": AUDIT_KEY,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # aliases as kwargs


@contextlib.asynccontextmanager
async def running_bot(
    database: Database,
    fake_slack: FakeSlack | None = None,
    *,
    audit: Auditor | None = None,
    clock: Clock = utcnow,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """Start a fake Slack and the bot (on ``database``); stop both afterwards."""
    slack = fake_slack or FakeSlack()
    async with serve_in_background(create_fake_slack(slack)) as slack_server:
        settings = make_settings(database.url, f"{slack_server.url}/api/", **overrides)
        if slack.token is None:  # the workspace knows the token it issued
            slack.token = settings.slack_bot_token.get_secret_value()
        app = create_app(settings, db=database, audit=audit or RecordingAuditor(), clock=clock)
        container: Container = app.state.container
        async with serve_in_background(app) as server, httpx.AsyncClient() as http:
            yield Bot(server, slack, slack_server, container, http, app.state.bolt)
