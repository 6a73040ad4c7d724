"""`/media stats` in place: the period menu switches the message, Chart uploads a PNG."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest

from handlers.ids import MEDIA_STATS_CHART, MEDIA_STATS_PERIOD
from storage.db import Database
from tests.handlers.media_fixtures import VIEWER, Stack, acme, running_stack, text_of


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    """The bot wired to the StreamStack simulator."""
    async with running_stack(database, streamapi=False) as running:
        yield running


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (and proof that it is a PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_period_menu_switches_the_message_in_place(stack: Stack) -> None:
    """Choosing 30d replaces the 7d message with the 30d numbers; the menu shows 30d."""
    video = acme(stack, "Product launch keynote")
    reply = await stack.command("/media", f"stats {video.uuid}", VIEWER)
    controls = reply["blocks"][-1]
    assert controls["elements"][0]["initial_option"]["value"] == f"{video.uuid}|7d"
    before = len(stack.replies())
    await stack.bot.click(MEDIA_STATS_PERIOD, f"{video.uuid}|30d", user_id=VIEWER, select=True)
    switched = (await stack.reply_count(before + 1))[before]
    assert switched["replace_original"] is True
    assert "over *30d*" in text_of(switched)
    assert switched["blocks"][-1]["elements"][0]["initial_option"]["value"] == f"{video.uuid}|30d"


async def test_chart_uploads_a_png_into_the_thread(stack: Stack) -> None:
    """Chart on a channel message: a 1000x600 PNG lands in that message's thread."""
    video = acme(stack, "Product launch keynote")
    before = len(stack.replies())
    await stack.bot.click(
        MEDIA_STATS_CHART,
        f"{video.uuid}|7d",
        user_id=VIEWER,
        channel_id="C0STATS",
        message_ts="1700000000.000042",
    )
    # Drawing the chart imports matplotlib once per process: allow for a loaded machine.
    await stack.bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) > before, 60)
    told = stack.replies()[before]
    assert "is in the thread" in told["text"]
    slack = stack.bot.slack
    (upload,) = slack.calls_to("file_upload")
    assert png_size(upload["content"]) == (1000, 600)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == "C0STATS"
    assert complete["thread_ts"] == "1700000000.000042"
    views = [c for c in stack.streamstack_http.requests if "/stats" in c[1]]
    assert len(views) == 5  # the chosen period's breakdowns and four view counts
