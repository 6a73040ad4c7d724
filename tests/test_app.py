"""The HTTP surface: health, readiness, metrics, and Slack request verification."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.async_app import AsyncAck

from bot.sandbox.slack import FakeSlack
from storage.db import Database
from tests import slack_requests
from tests.harness import Bot, running_bot


async def test_healthz_answers_ok(bot: Bot) -> None:
    """/healthz says the process is alive."""
    response = await bot.http.get(f"{bot.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_migrations(bot: Bot) -> None:
    """/readyz is 200 when the database answers and every migration is applied."""
    response = await bot.http.get(f"{bot.url}/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_readyz_reports_pending_migrations(empty_database: Database) -> None:
    """/readyz is 503 naming the problem while migrations are pending."""
    async with running_bot(empty_database) as bot:
        response = await bot.http.get(f"{bot.url}/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "migrations pending"


async def test_metrics_count_requests_by_route_template(bot: Bot) -> None:
    """/metrics is Prometheus text with request counts labelled by route template."""
    await bot.http.get(f"{bot.url}/healthz")
    response = await bot.http.get(f"{bot.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'streamops_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert "streamops_http_request_duration_seconds_bucket" in text


def _register_probe(bot: Bot) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @bot.bolt.command("/probe")
    async def probe(ack: AsyncAck, command: dict[str, Any]) -> None:
        seen.append(command)
        await ack("probe ok")

    return seen


async def test_signed_slash_command_reaches_its_handler(bot: Bot) -> None:
    """A correctly signed slash command is dispatched and acked with the handler's reply."""
    seen = _register_probe(bot)
    response = await bot.command("/probe", "hello world")
    assert response.status_code == 200
    assert response.text == "probe ok"
    assert seen[0]["text"] == "hello world"
    assert seen[0]["user_id"] == "U2CERLKJA"


async def test_unsigned_request_is_refused(bot: Bot) -> None:
    """A request without signature headers gets 401 and reaches no handler."""
    seen = _register_probe(bot)
    body = slack_requests.slash_command("/probe")
    response = await bot.http.post(
        f"{bot.url}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert seen == []


async def test_altered_body_is_refused(bot: Bot) -> None:
    """A body changed after signing gets 401."""
    seen = _register_probe(bot)
    body = slack_requests.slash_command("/probe", "list")
    headers = slack_requests.signed_headers(body)
    tampered = body.replace(b"list", b"lisT")
    response = await bot.http.post(f"{bot.url}/slack/events", content=tampered, headers=headers)
    assert response.status_code == 401
    assert seen == []


async def test_wrong_secret_is_refused(bot: Bot) -> None:
    """A request signed with another app's secret gets 401."""
    seen = _register_probe(bot)
    response = await bot.post_signed(slack_requests.slash_command("/probe"), secret="other")
    assert response.status_code == 401
    assert seen == []


async def test_stale_request_is_refused(bot: Bot) -> None:
    """A correctly signed request older than five minutes gets 401 (replay protection)."""
    seen = _register_probe(bot)
    stale = int(time.time()) - 5 * 60 - 5
    response = await bot.post_signed(slack_requests.slash_command("/probe"), timestamp=stale)
    assert response.status_code == 401
    assert seen == []


async def test_home_tab_is_published_on_app_home_opened(database: Database) -> None:
    """Opening the Home tab publishes the StreamOps home view for that user."""
    slack = FakeSlack()
    async with running_bot(database, slack) as bot:
        body = slack_requests.event_callback(
            {"type": "app_home_opened", "user": "U123", "channel": "D1", "tab": "home"}
        )
        response = await bot.post_signed(body, content_type="application/json")
        assert response.status_code == 200
        await slack.wait_for(lambda s: bool(s.calls_to("views.publish")))
    published = slack.calls_to("views.publish")[0]
    assert published["user_id"] == "U123"
    assert published["view"]["type"] == "home"
