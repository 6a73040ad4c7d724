"""When Slack refuses a call, the bot says so in words: never a silent drop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.sandbox import slack_limits
from bot.sandbox.slack import FakeSlack
from storage.audit import AuditLog
from storage.db import Database
from tests import slack_requests
from tests.harness import ADMIN, running_bot


async def test_export_without_im_write_names_the_missing_scope(database: Database) -> None:
    """An app installed without im:write: the admin is told which scope to add, not 'oops'."""
    slack = FakeSlack(scopes=slack_limits.manifest_scopes() - {"im:write"})
    async with running_bot(database, slack, audit=AuditLog(database)) as bot:
        await bot.command("/audit", "export", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    text = slack.calls_to("response_url")[0]["text"]
    assert "conversations.open" in text
    assert "missing_scope" in text
    assert "im:write" in text
    assert "Something went wrong" not in text


async def test_export_works_with_the_manifest_scopes(database: Database) -> None:
    slack = FakeSlack()
    async with running_bot(database, slack, audit=AuditLog(database)) as bot:
        await bot.command("/audit", "export", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    assert slack.refusals() == []
    assert "Sent you" in slack.calls_to("response_url")[0]["text"]


async def test_an_exhausted_response_url_is_logged_without_the_url(
    database: Database, caplog: pytest.LogCaptureFixture, answers_after_ack: None
) -> None:
    """The 6th post to one response_url is refused by Slack; the bot logs it (no URL)."""
    slack = FakeSlack()
    caplog.set_level(logging.WARNING, logger="streamops.respond")
    async with running_bot(database, slack) as bot:
        url = bot.response_url("same-url")
        for n in range(6):
            await bot.command("/streamops", "help", response_url=url)
            await slack.wait_for(lambda s, n=n: len(s.calls_to("response_url")) > n)
    assert [c.error for c in slack.calls if c.method == "response_url"][-1] == "used_url"
    refusals = [r for r in caplog.records if "refused a response_url" in r.getMessage()]
    assert refusals and "used_url" in refusals[0].getMessage()
    assert all("same-url" not in r.getMessage() for r in caplog.records)


async def test_a_refused_home_tab_is_logged_in_words(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    slack = FakeSlack()
    slack.method_retry_after["views.publish"] = 0  # the SDK retries twice, then gives up
    caplog.set_level(logging.WARNING, logger="streamops.home")
    async with running_bot(database, slack) as bot:
        event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
        body = slack_requests.event_callback(event, event_id="EvHOME1")
        response = await bot.post_signed(body, content_type="application/json")
        assert response.status_code == 200
        await slack.wait_for(lambda s: len(s.calls_to("views.publish")) == 3, within=10)
        for _ in range(500):
            if any("views.publish" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.01)
    message = next(r.getMessage() for r in caplog.records if "views.publish" in r.getMessage())
    assert "ratelimited" in message
