"""Undo a video delete: a confirmed delete waits out its window, then runs exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from handlers.ids import MEDIA_DELETE, MEDIA_UNDO_DELETE
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

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CHANNEL = "C0MEDIA"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def clock() -> Clock:
    return Clock()


@pytest.fixture
async def stack(database: Database, clock: Clock) -> AsyncIterator[Stack]:
    """The bot with a 10-minute undo window on a clock the test moves."""
    async with running_stack(
        database,
        streamapi=False,
        clock=clock,
        STREAMOPS_DELETE_UNDO_MINUTES=10,
    ) as running:
        yield running


def deletes(stack: Stack) -> list[str]:
    """The DELETE requests StreamStack received."""
    return [r for r in stack.streamstack_http.requests if r[0] == "DELETE"]


async def click_delete(stack: Stack, uuid: str) -> dict[str, object]:
    """Confirm a delete on a channel message; the bot's answer to it."""
    before = len(stack.replies())
    await stack.bot.click(
        MEDIA_DELETE, uuid, user_id=MEDIA_USER, channel_id=CHANNEL, message_ts="1700000000.000001"
    )
    return (await stack.reply_count(before + 1))[before]


async def test_a_confirmed_delete_waits_then_runs_once_and_is_announced(
    stack: Stack, clock: Clock
) -> None:
    """The click schedules; nothing reaches StreamStack until the window ends; then one DELETE."""
    video = acme(stack, "Onboarding walkthrough")
    answer = await click_delete(stack, video.uuid)
    assert "is deleting *Onboarding walkthrough*" in text_of(answer)
    (undo,) = buttons(answer["blocks"])  # type: ignore[arg-type]
    assert undo["action_id"] == MEDIA_UNDO_DELETE
    (scheduled,) = stack.events("delete.schedule")
    assert (scheduled.outcome, scheduled.actor_id) == ("ok", MEDIA_USER)

    jobs = stack.bot.container.pending_deletes
    assert jobs is not None
    clock.now = T0 + timedelta(minutes=9, seconds=59)
    assert await jobs.run_due() == 0
    assert deletes(stack) == [] and video.uuid in stack.streamstack.media

    clock.now = T0 + timedelta(minutes=10)
    ran = await asyncio.gather(jobs.run_due(), jobs.run_due(), jobs.run_due())
    assert sum(ran) == 1
    assert len(deletes(stack)) == 1 and video.uuid not in stack.streamstack.media
    (done,) = stack.events("delete")
    assert (done.outcome, done.actor_id, done.source) == ("ok", MEDIA_USER, "scheduler")

    slack = stack.bot.slack
    await slack.wait_for(
        lambda s: any("was deleted" in json.dumps(m.blocks) for m in s.channel_messages(CHANNEL))
    )
    late_before = len(stack.replies())
    await stack.bot.click(MEDIA_UNDO_DELETE, undo["value"], user_id=MEDIA_USER)
    late = (await stack.reply_count(late_before + 1))[late_before]
    assert "Too late" in late["text"]
    assert len(deletes(stack)) == 1


async def test_undo_in_time_keeps_the_video(stack: Stack, clock: Clock) -> None:
    """Undo before the window ends: the message says who undid it; StreamStack is never called."""
    video = acme(stack, "Onboarding walkthrough")
    answer = await click_delete(stack, video.uuid)
    (undo,) = buttons(answer["blocks"])  # type: ignore[arg-type]

    clock.now = T0 + timedelta(minutes=3)
    before = len(stack.replies())
    await stack.bot.click(MEDIA_UNDO_DELETE, undo["value"], user_id=MEDIA_USER)
    undone = (await stack.reply_count(before + 1))[before]
    assert undone["replace_original"] is True
    assert f"undone by <@{MEDIA_USER}>" in undone["text"]
    (event,) = stack.events("delete.undo")
    assert (event.outcome, event.target_id) == ("ok", video.uuid)

    clock.now = T0 + timedelta(hours=1)
    jobs = stack.bot.container.pending_deletes
    assert jobs is not None and await jobs.run_due() == 0
    assert deletes(stack) == [] and video.uuid in stack.streamstack.media


async def test_a_viewer_cannot_undo(stack: Stack) -> None:
    """Undo needs the media role like Delete; the refusal is audited and changes nothing."""
    video = acme(stack, "Onboarding walkthrough")
    answer = await click_delete(stack, video.uuid)
    (undo,) = buttons(answer["blocks"])  # type: ignore[arg-type]
    before = len(stack.replies())
    await stack.bot.click(MEDIA_UNDO_DELETE, undo["value"], user_id=VIEWER)
    refused = (await stack.reply_count(before + 1))[before]
    assert "media* role" in refused["text"]
    (event,) = stack.events("delete.undo")
    assert (event.outcome, event.actor_id) == ("denied", VIEWER)
