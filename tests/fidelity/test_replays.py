"""Slack deliveries run once: event retries and replayed slash commands do nothing the 2nd time."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from sqlalchemy.exc import OperationalError

from bot import ack_runner
from handlers import ack_answer
from storage.audit import AuditLog
from storage.db import Database
from storage.roles import RoleStore
from tests import slack_requests
from tests.handlers.build_env import RELEASER, build_env
from tests.harness import ADMIN, Bot, running_bot
from tests.providers.streampixel_fixtures import BUILD_URL
from tests.storage.test_concurrency import _second_engine


def audit_actions(bot: Bot) -> list[str]:
    return [e.action for e in bot.deps.audit.events]  # type: ignore[attr-defined]


async def test_an_event_retry_is_processed_once(bot: Bot) -> None:
    """Slack's retry of app_home_opened (same event_id, X-Slack-Retry-Num) publishes nothing."""
    event = {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
    body = slack_requests.event_callback(event, event_id="Ev0RETRY01")
    first = await bot.post_signed(body, content_type="application/json")
    assert first.status_code == 200
    await bot.slack.wait_for(lambda s: len(s.calls_to("views.publish")) == 1)
    headers = slack_requests.signed_headers(body, content_type="application/json")
    headers.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    retry = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert retry.status_code == 200
    assert retry.headers.get("x-slack-no-retry") == "1"
    other = slack_requests.event_callback(event, event_id="Ev0OTHER02")
    await bot.post_signed(other, content_type="application/json")
    await bot.slack.wait_for(lambda s: len(s.calls_to("views.publish")) == 2)
    await asyncio.sleep(0.2)
    assert len(bot.slack.calls_to("views.publish")) == 2


async def _grant_sent_twice_runs_once(bot: Bot) -> None:
    """Send one signed `/streamops roles grant` twice: one reply, one audit row, an empty 200.

    The replay's own HTTP answer is empty: whoever replays a captured request reads nothing.
    """
    body = slack_requests.slash_command(
        "/streamops",
        "roles grant <@U0BOB123|bob> releaser",
        user_id=ADMIN,
        response_url=bot.response_url(),
        trigger_id=bot.slack.issue_trigger_id(),
    )
    assert (await bot.post_command(body, bot.response_url())).status_code == 200
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 1)
    replay = await bot.post_command(body, bot.response_url())
    assert replay.status_code == 200 and replay.text == ""
    await asyncio.sleep(0.3)
    assert len(bot.slack.calls_to("response_url")) == 1
    assert audit_actions(bot) == ["role.grant"]


async def test_a_replayed_slash_command_runs_once(bot: Bot) -> None:
    """The same signed request (same trigger_id) sent twice grants the role once."""
    await _grant_sent_twice_runs_once(bot)


async def test_replays_are_dropped_across_replicas(database: Database) -> None:
    """Two bots on one database: a command replayed to the other replica still runs once."""
    other = await _second_engine(database)
    async with (
        running_bot(database, audit=AuditLog(database)) as one,
        running_bot(other, audit=AuditLog(other)) as two,
    ):
        body = slack_requests.slash_command(
            "/streamops",
            "roles grant U0CAROL1 releaser",
            user_id=ADMIN,
            response_url=one.response_url(),
        )
        url = one.response_url()
        answers = await asyncio.gather(
            one.post_command(body, url), two.post_command(body, url, one.slack)
        )
        assert sorted(bool(a.text) for a in answers) in ([False, False], [False, True])
        await one.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 1)
        await asyncio.sleep(0.3)
        assert len(one.slack.calls_to("response_url")) == 1
        assert len(two.slack.calls_to("response_url")) == 0


async def test_a_replayed_upload_is_acked_and_reaches_streampixel_once(database: Database) -> None:
    """The claim is settled after the ack: the replay is acked like the first, then runs nothing.

    No second upload reaches the simulator, no second reply, no second audit row.
    """
    async with build_env(database) as env:
        body = slack_requests.slash_command(
            "/build",
            f"upload showroom {BUILD_URL} --no-auto-release",
            user_id=RELEASER,
            response_url=env.bot.response_url(),
            trigger_id=env.bot.slack.issue_trigger_id(),
        )
        url = env.bot.response_url()
        first, replay = await env.bot.post_command(body, url), await env.bot.post_command(body, url)
        assert first.status_code == 200  # empty, or the answer if it was ready in time
        assert (replay.status_code, replay.text) == (200, "")
        await env.reply_count(1)
        await asyncio.sleep(0.3)
        assert len(env.replies()) == 1
        assert sum(1 for u in env.sim.uploads.values() if u.file_url == BUILD_URL) == 1
        assert audit_actions(env.bot) == ["upload"]


async def test_with_bolts_own_runner_a_replayed_command_is_claimed_before_it_runs(bot: Bot) -> None:
    """The claim is deferred only to a PostAckRunner; with Bolt's runner the guard still holds."""
    ours = bot.bolt._async_listener_runner
    bot.bolt._async_listener_runner = AsyncioListenerRunner(
        logger=ours.logger,
        process_before_response=False,
        listener_error_handler=ours.listener_error_handler,
        listener_start_handler=ours.listener_start_handler,
        listener_completion_handler=ours.listener_completion_handler,
        lazy_listener_runner=ours.lazy_listener_runner,
    )
    await _grant_sent_twice_runs_once(bot)


@pytest.mark.parametrize("in_ack", [True, False], ids=["answer-in-ack", "ack-first"])
async def test_a_command_whose_claim_cannot_be_recorded_says_so_and_runs_nothing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, in_ack: bool
) -> None:
    """The database is down when a slash command's one-shot claim is written: the user is
    told, ephemerally, that nothing ran and to try again (in the ack when it is still
    open, else by a ``response_url`` post); nothing runs, no stack trace, no 500."""

    async def database_down(key: str, actor_id: str) -> bool:
        raise OperationalError(
            "INSERT INTO delivery_claims", {}, sqlite3.OperationalError("disk I/O error")
        )

    monkeypatch.setattr(bot.container.claims, "claim", database_down)
    if not in_ack:  # the event loop is behind: commands ack empty first, then post
        monkeypatch.setattr(ack_answer, "ANSWER_IN_ACK_SECONDS", 0.0)
    response = await bot.command("/streamops", "roles grant U0BOB123 releaser", user_id=ADMIN)
    assert response.status_code == 200
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) == 1)
    [shown] = bot.slack.calls_to("response_url")
    assert shown["response_type"] == "ephemeral"
    assert shown["text"] == ack_runner.CLAIM_FAILED_TEXT
    assert bool(shown.get("_in_ack")) is in_ack
    assert "disk I/O" not in response.text and "Traceback" not in response.text
    await asyncio.sleep(0.3)
    assert len(bot.slack.calls_to("response_url")) == 1
    assert audit_actions(bot) == []
    assert await RoleStore(bot.container.db).roles_of("U0BOB123") == set()
