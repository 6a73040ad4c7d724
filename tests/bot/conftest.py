"""Fixtures shared by the tests of ``bot``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import serve_in_background
from tests.harness import BOT_TOKEN


@pytest.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, AsyncWebClient]]:
    """The fake Slack on loopback HTTP, and a Web API client pointed at it (no retries)."""
    fake = FakeSlack()
    async with serve_in_background(create_fake_slack(fake)) as server:
        yield (
            fake,
            AsyncWebClient(token=BOT_TOKEN, base_url=f"{server.url}/api/", retry_handlers=[]),
        )
