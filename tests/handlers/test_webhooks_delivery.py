"""Webhooks through the real app into the fake Slack: one message per build/video, replies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.sandbox.slack import FakeSlack
from handlers import ids
from storage.webhooks import WebhookStore
from tests.harness import Bot, running_bot
from tests.webhook_helpers import (
    FAST,
    PROJECT,
    UPLOAD,
    VIDEO,
    counts,
    drained,
    post_webhook,
    quiet_bot,
    running_worker,
    streampixel,
    streamstack,
)


@pytest.fixture
async def hook_bot(database) -> AsyncIterator[Bot]:
    """The running bot without its own delivery worker."""
    async with quiet_bot(database) as bot:
        yield bot


PIPELINE = ("build.uploaded", "build.downloading", "build.extracting", "build.saving")


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def _send_all(bot: Bot, events: list[str]) -> None:
    for minute, event in enumerate(events):
        response = await post_webhook(bot, "streampixel", streampixel(event, minute=minute))
        assert response.status_code == 200


def _parents(slack: FakeSlack, channel: str) -> list:
    return [m for m in slack.channel_messages(channel) if m.thread_ts is None]


def _replies(slack: FakeSlack, channel: str, ts: str) -> list:
    return [m for m in slack.channel_messages(channel) if m.thread_ts == ts]


def _thread_lines(slack: FakeSlack, channel: str, ts: str) -> list[str]:
    """Every step said in the thread, in order: steps that waited together share one reply."""
    return [line for m in _replies(slack, channel, ts) for line in m.text.splitlines()]


async def test_auto_release_build_is_one_message_updated_in_place_with_replies(hook_bot) -> None:
    bot = hook_bot
    """uploaded→…→distributing→approved: one message edited in place, each step in its thread.

    Steps that wait together are collapsed (one edit, one reply listing them), so the
    number of edits depends on the worker's timing; what the channel shows does not.
    """
    events = [*PIPELINE, "build.distributing", "build.approved"]
    async with running_worker(bot):
        await _send_all(bot, events)
        await drained(bot.container.db)
    [parent] = _parents(bot.slack, "C0DEFAULT")
    assert parent.edits <= len(events) - 1
    assert UPLOAD in parent.text and "Approved and distributed" in parent.text
    assert _buttons(parent.blocks) == []
    lines = _thread_lines(bot.slack, "C0DEFAULT", parent.ts)
    assert len(lines) == len(events) - 1
    assert "Approved" in lines[-1]
    posts = bot.slack.calls_to("chat.postMessage")
    assert not any(p.get("reply_broadcast") in (True, "true", "1") for p in posts)


async def test_manual_release_approved_carries_distribute_until_distributing(hook_bot) -> None:
    bot = hook_bot
    """approved with no distributing before it offers Distribute; distributing then removes it."""
    async with running_worker(bot):
        await _send_all(bot, [*PIPELINE, "build.approved"])
        await drained(bot.container.db)
        [parent] = _parents(bot.slack, "C0DEFAULT")
        [button] = _buttons(parent.blocks)
        assert button["action_id"] == ids.BUILD_DISTRIBUTE
        assert json.loads(button["value"]) == {"project_id": PROJECT, "upload_id": UPLOAD}
        response = await post_webhook(
            bot, "streampixel", streampixel("build.distributing", minute=30)
        )
        assert response.status_code == 200
        await drained(bot.container.db)
    [parent] = _parents(bot.slack, "C0DEFAULT")
    assert _buttons(parent.blocks) == []
    assert "Approved and distributed" in parent.text


async def test_rejection_shows_the_objection_and_is_broadcast(hook_bot) -> None:
    bot = hook_bot
    """A rejected build shows the objection in place and its reply is broadcast to the channel."""
    objection = "Build contains unsupported file formats."
    async with running_worker(bot):
        await _send_all(bot, ["build.uploaded", "build.downloading"])
        response = await post_webhook(
            bot, "streampixel", streampixel("build.rejected", minute=9, objection=objection)
        )
        assert response.status_code == 200
        await drained(bot.container.db)
    [parent] = _parents(bot.slack, "C0DEFAULT")
    assert any(objection in json.dumps(b) for b in parent.blocks)
    assert "Rejected" in parent.text
    last = bot.slack.calls_to("chat.postMessage")[-1]
    assert last["thread_ts"] == parent.ts
    assert last["reply_broadcast"] in (True, "true", "1")
    assert objection in last["text"]


async def test_media_failed_offers_delete_and_details_and_is_broadcast(hook_bot) -> None:
    bot = hook_bot
    """media.failed updates the video's message with Delete and Details, broadcasting the reply."""
    async with running_worker(bot):
        for event in ("media.uploaded", "media.failed"):
            response = await post_webhook(bot, "streamstack", streamstack(event, status="failed"))
            assert response.status_code == 200
        await drained(bot.container.db)
    [parent] = _parents(bot.slack, "C0DEFAULT")
    assert VIDEO in parent.text
    buttons = {b["action_id"]: b["value"] for b in _buttons(parent.blocks)}
    assert buttons == {ids.MEDIA_DELETE: VIDEO, ids.MEDIA_DETAILS: VIDEO}
    last = bot.slack.calls_to("chat.postMessage")[-1]
    assert last["reply_broadcast"] in (True, "true", "1")


async def test_published_video_links_the_player(hook_bot) -> None:
    bot = hook_bot
    """uploaded→transcoded→published ends with the player link in the video's message."""
    async with running_worker(bot):
        for event in ("media.uploaded", "media.transcoded", "media.published"):
            await post_webhook(bot, "streamstack", streamstack(event, status="published"))
        await drained(bot.container.db)
    [parent] = _parents(bot.slack, "C0DEFAULT")
    assert parent.edits <= 2
    assert f"https://streamstack.it/player/{VIDEO}" in json.dumps(parent.blocks)
    assert len(_thread_lines(bot.slack, "C0DEFAULT", parent.ts)) == 2


async def test_webhook_test_answers_in_the_channel(hook_bot) -> None:
    bot = hook_bot
    """webhook.test posts a standalone message saying the webhook works, and it is marked posted."""
    async with running_worker(bot):
        response = await post_webhook(bot, "streampixel", streampixel("webhook.test", upload=None))
        assert response.status_code == 200
        await drained(bot.container.db)
    [message] = bot.slack.channel_messages("C0DEFAULT")
    assert "webhook works" in message.text
    assert PROJECT in json.dumps(message.blocks)
    [delivery] = await WebhookStore(bot.container.db).recent()
    assert delivery.outcome == "posted"


async def test_slack_outage_then_recovery_loses_and_doubles_nothing(database) -> None:
    """Slack answers 503 for a while; afterwards every notification is there exactly once."""
    slack = FakeSlack(failures=12)
    async with quiet_bot(database, slack) as bot, running_worker(bot):
        await _send_all(bot, [*PIPELINE, "build.distributing", "build.approved"])
        await post_webhook(bot, "streampixel", streampixel("webhook.test", upload=None))
        await drained(bot.container.db, within=15)
    assert slack.failures == 0
    [parent] = _parents(slack, "C0DEFAULT")[:1]
    assert len(_parents(slack, "C0DEFAULT")) == 2  # the build's message and the test answer
    lines = _thread_lines(slack, "C0DEFAULT", parent.ts)
    assert [line.split(" ", 1)[1] for line in lines] == [
        "Downloading files",
        "Extracting & scanning",
        "Saving to repository",
        "Distributing to GPU workers",
        "Approved",
    ]
    assert parent.edits <= 5 and "Approved" in parent.text


async def test_rate_limited_slack_is_waited_out_and_then_delivered_once(database) -> None:
    """Slack answers 429 with Retry-After; the row waits, then goes out once."""
    slack = FakeSlack(retry_after=1)
    calls_while_limited: list[int] = []
    async with quiet_bot(database, slack) as bot, running_worker(bot):
        await post_webhook(bot, "streampixel", streampixel("build.uploaded"))
        await slack.wait_for(lambda s: len(s.calls_to("chat.postMessage")) >= 1)
        calls_while_limited.append(len(slack.calls_to("chat.postMessage")))
        slack.retry_after = None
        await drained(bot.container.db, within=10)
    assert calls_while_limited == [1]
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.channel_messages("C0DEFAULT")) == 1


async def test_restart_with_pending_deliveries_delivers_each_once(database) -> None:
    """Webhooks stored while Slack is down survive a stop; a new app on the DB posts them once."""
    down = FakeSlack(failures=10_000)
    short_lease = replace(FAST, lease_seconds=0.3)
    async with quiet_bot(database, down) as first, running_worker(first, options=short_lease):
        await _send_all(first, list(PIPELINE))
        await down.wait_for(lambda s: len(s.calls) >= 2)
    assert await counts(database) == (4, 4)
    assert down.channel_messages("C0DEFAULT") == []
    up = FakeSlack()
    async with quiet_bot(database, up) as second, running_worker(second):
        await drained(second.deps.db)
    [parent] = _parents(up, "C0DEFAULT")
    # The four waiting steps are collapsed: the message posted at its latest state, one reply.
    assert len(_thread_lines(up, "C0DEFAULT", parent.ts)) == 3
    assert len(_replies(up, "C0DEFAULT", parent.ts)) == 1
    assert parent.edits == 0 and "Saving" in parent.text


async def test_permanent_slack_error_marks_the_row_and_delivery_failed(database) -> None:
    """A channel Slack does not know fails the notification for good instead of retrying forever."""
    slack = FakeSlack()
    async with quiet_bot(database, slack) as bot:
        original = slack._m_chat_postMessage
        slack._m_chat_postMessage = lambda p: {"ok": False, "error": "channel_not_found"}  # type: ignore[method-assign]
        async with running_worker(bot):
            await post_webhook(bot, "streampixel", streampixel("build.uploaded"))
            await drained(bot.container.db)
        slack._m_chat_postMessage = original  # type: ignore[method-assign]
    [delivery] = await WebhookStore(database).recent()
    assert delivery.outcome == "failed"
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_the_app_runs_its_own_delivery_worker(database) -> None:
    """With default settings, the container runs the worker: a webhook reaches Slack unaided."""
    async with running_bot(database) as bot:
        await post_webhook(bot, "streampixel", streampixel("webhook.test", upload=None))
        await bot.slack.wait_for(lambda s: bool(s.channel_messages("C0DEFAULT")))
        await drained(bot.container.db)
    [message] = bot.slack.channel_messages("C0DEFAULT")
    assert "webhook works" in message.text
