"""`/media` buttons end to end: paging, Details, and the one-shot, role-checked Delete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from handlers.blocks.media import PAGE_NEXT_ACTION, PAGE_PREVIOUS_ACTION
from handlers.ids import MEDIA_DELETE, MEDIA_DETAILS
from storage.db import Database
from tests.handlers.media_fixtures import (
    MEDIA_USER,
    VIEWER,
    Stack,
    acme,
    buttons,
    running_stack,
    text_of,
)
from tests.webhook_helpers import drained, post_webhook, running_worker
from tests.webhook_helpers import streamstack as streamstack_hook


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    """The bot on the migrated database, wired to the StreamStack simulator; deletes at once."""
    async with running_stack(database, streamapi=False, STREAMOPS_DELETE_UNDO_MINUTES=0) as running:
        yield running


async def test_list_pages_with_next_and_previous_buttons(stack: Stack) -> None:
    """Twenty-five videos make three pages; Next replaces the message with page 2."""
    for n in range(22):
        stack.streamstack.seed_media("acme", f"Clip {n:02d}", at=1_000_000 + n)
    first = await stack.command("/media", "list", VIEWER)
    nav = {b["action_id"]: b["value"] for b in buttons(first["blocks"]) if "page" in b["action_id"]}
    assert nav == {PAGE_NEXT_ACTION: "2"}

    await stack.bot.click(PAGE_NEXT_ACTION, "2", user_id=VIEWER)
    second = (await stack.reply_count(2))[1]
    assert second["replace_original"] is True
    assert "Page 2 of 3" in text_of(second)
    nav = {
        b["action_id"]: b["value"] for b in buttons(second["blocks"]) if "page" in b["action_id"]
    }
    assert nav == {PAGE_PREVIOUS_ACTION: "1", PAGE_NEXT_ACTION: "3"}
    assert len(second["blocks"]) <= 50


async def test_viewer_cannot_delete_and_is_audited(stack: Stack) -> None:
    """A viewer's `/media delete` is refused, audited as denied, and reaches nobody."""
    video = acme(stack, "Onboarding walkthrough")
    reply = await stack.command("/media", f"delete {video.uuid}", VIEWER)
    assert "you need the *media* role" in reply["text"]
    assert video.uuid in stack.streamstack.media
    assert stack.streamstack_http.requests == []
    (event,) = stack.events("delete")
    assert (event.outcome, event.actor_id, event.target_id) == ("denied", VIEWER, video.uuid)


async def test_delete_asks_then_deletes_once_and_says_who(stack: Stack) -> None:
    """`/media delete` asks first; the click deletes, spends the button, and is audited."""
    video = acme(stack, "Onboarding walkthrough")
    prompt = await stack.command("/media", f"delete {video.uuid}", MEDIA_USER)
    assert prompt["response_type"] == "ephemeral"
    assert "Onboarding walkthrough" in text_of(prompt)
    (delete,) = buttons(prompt["blocks"])
    assert delete["action_id"] == MEDIA_DELETE and "confirm" in delete
    assert video.uuid in stack.streamstack.media

    await stack.bot.click(
        MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, message_ts="1.1",
        message_blocks=prompt["blocks"],
    )  # fmt: skip
    updated = (await stack.reply_count(2))[1]
    assert updated["replace_original"] is True
    assert f"deleted by <@{MEDIA_USER}>" in updated["text"]
    assert buttons(updated["blocks"]) == []
    assert "Onboarding walkthrough" in text_of(updated)
    assert video.uuid not in stack.streamstack.media
    assert stack.streamstack_http.count("DELETE") == 1
    outcomes = [(e.outcome, e.source) for e in stack.events("delete")]
    assert outcomes == [("ok", "button")]


async def test_concurrent_double_click_deletes_once(stack: Stack) -> None:
    """Two simultaneous clicks on one Delete button send exactly one DELETE."""
    video = acme(stack, "Onboarding walkthrough")
    await asyncio.gather(
        *(
            stack.bot.click(MEDIA_DELETE, video.uuid, user_id=user, message_ts="2.2")
            for user in (MEDIA_USER, "UADMIN01")
        )
    )
    replies = await stack.reply_count(2)
    assert stack.streamstack_http.count("DELETE") == 1
    texts = sorted(r["text"] for r in replies)
    assert any("deleted by" in t for t in texts)
    assert any("already used by" in t for t in texts)
    assert not any("Resource not found" in t for t in texts)
    assert sorted(e.outcome for e in stack.events("delete")) == ["denied", "ok"]


async def test_forged_click_by_viewer_is_refused_and_button_stays_usable(stack: Stack) -> None:
    """A viewer's Delete click is refused without a DELETE; a media user can still use it."""
    video = acme(stack, "Onboarding walkthrough")
    await stack.bot.click(MEDIA_DELETE, video.uuid, user_id=VIEWER, message_ts="3.3")
    refused = (await stack.reply_count(1))[0]
    assert "you need the *media* role" in refused["text"]
    assert stack.streamstack_http.count("DELETE") == 0
    assert [e.outcome for e in stack.events("delete")] == ["denied"]

    await stack.bot.click(MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, message_ts="3.3")
    await stack.reply_count(2)
    assert video.uuid not in stack.streamstack.media


async def test_failed_notification_buttons(stack: Stack) -> None:
    """On a media.failed message, Details answers privately; Delete keeps the rest of it."""
    video = acme(stack, "Onboarding walkthrough")
    notification = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Transcode failed: Onboarding"}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": MEDIA_DETAILS, "value": video.uuid,
                 "text": {"type": "plain_text", "text": "Details"}},
                {"type": "button", "action_id": MEDIA_DELETE, "value": video.uuid,
                 "text": {"type": "plain_text", "text": "Delete"}},
            ],
        },
    ]  # fmt: skip
    await stack.bot.click(MEDIA_DETAILS, video.uuid, user_id=VIEWER, message_blocks=notification)
    details = (await stack.reply_count(1))[0]
    assert details["replace_original"] is False and details["response_type"] == "ephemeral"
    assert "failed" in text_of(details)

    await stack.bot.click(
        MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, message_ts="4.4",
        message_blocks=notification,
    )  # fmt: skip
    updated = (await stack.reply_count(2))[1]
    assert [b["action_id"] for b in buttons(updated["blocks"])] == [MEDIA_DETAILS]
    assert updated["blocks"][0] == notification[0]
    assert f"<@{MEDIA_USER}>" in updated["blocks"][-1]["elements"][0]["text"]


async def test_failed_delete_is_reported_and_audited(stack: Stack) -> None:
    """A StreamStack 500 on DELETE is not retried, is shown in words and audited as failed."""
    video = acme(stack, "Onboarding walkthrough")
    stack.streamstack.fail_next_requests(1, status=500)
    await stack.bot.click(MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, message_ts="5.5")
    reply = (await stack.reply_count(1))[0]
    assert "StreamStack said: Internal server error" in reply["text"]
    assert f"/media delete {video.uuid}" in reply["text"]
    assert stack.streamstack_http.count("DELETE") == 1
    (event,) = stack.events("delete")
    assert event.outcome == "failed" and event.message == "Internal server error"
    claim = await stack.bot.container.claims.get(f"media.delete:{video.uuid}:C0CHANNEL1:5.5")
    assert claim is not None and claim.outcome == "failed"


async def test_delete_from_a_real_media_failed_notification(database: Database) -> None:
    """A media.failed webhook's message offers Delete; clicking it deletes at StreamStack."""
    async with running_stack(
        database, streamapi=False, STREAMOPS_DELIVERY_WORKER=False, STREAMOPS_DELETE_UNDO_MINUTES=0
    ) as stack:
        video = acme(stack, "Onboarding walkthrough")
        bot = stack.bot
        async with running_worker(bot):
            payload = streamstack_hook("media.failed", uuid=video.uuid, status="failed")
            assert (await post_webhook(bot, "streamstack", payload)).status_code == 200
            await drained(bot.container.db)
        (notice,) = [m for m in bot.slack.channel_messages("C0DEFAULT") if m.thread_ts is None]

        await bot.click(
            MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, channel_id="C0DEFAULT",
            message_ts=notice.ts, message_blocks=notice.blocks,
        )  # fmt: skip
        updated = (await stack.reply_count(1))[0]
        assert video.uuid not in stack.streamstack.media
        assert updated["replace_original"] is True
        assert [b["action_id"] for b in buttons(updated["blocks"])] == [MEDIA_DETAILS]
        assert updated["blocks"][: len(notice.blocks) - 1] == notice.blocks[:-1]
        (event,) = stack.events("delete")
        assert (event.outcome, event.channel_id) == ("ok", "C0DEFAULT")


async def test_a_page_past_the_end_shows_the_last_page(stack: Stack) -> None:
    """`/media list 99` with one page of videos shows page 1 of 1 and no Previous button."""
    reply = await stack.command("/media", "list 99", VIEWER)
    assert "Page 1 of 1" in text_of(reply)
    assert not any("page" in b["action_id"] for b in buttons(reply["blocks"]))
