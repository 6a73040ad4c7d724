"""`/media` end to end: signed slash commands → real app → real StreamStack simulator."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator

import pytest

from handlers.blocks.media import PAGE_NEXT_ACTION
from handlers.ids import MEDIA_DELETE
from storage.db import Database
from tests.handlers.media_fixtures import (
    MEDIA_USER,
    VIEWER,
    Stack,
    acme,
    buttons,
    globex,
    running_stack,
    text_of,
)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    """The bot on the migrated database, wired to the StreamStack simulator."""
    async with running_stack(database, streamapi=False) as running:
        yield running


async def test_list_shows_own_videos_newest_first(stack: Stack) -> None:
    """`/media list` names the tenant's videos, newest first, and never another tenant's."""
    reply = await stack.command("/media", "list", VIEWER)
    text = text_of(reply)
    assert reply["response_type"] == "ephemeral"
    order = [text.index(t) for t in ("Quarterly all-hands", "Onboarding walkthrough")]
    assert order == sorted(order)
    assert "Product launch keynote" in text
    assert "Globex factory tour" not in text
    assert stack.streamstack_http.count("GET", "/api/v1/media") == 1
    assert not [b for b in buttons(reply["blocks"]) if b["action_id"] == PAGE_NEXT_ACTION]


async def test_bad_page_is_named(stack: Stack) -> None:
    """A page that is not a number is refused in words, with no provider call."""
    reply = await stack.command("/media", "list two", VIEWER)
    assert "`two` is not a page number" in reply["text"]
    assert stack.streamstack_http.count("GET") == 0


async def test_info_shows_details_and_a_guarded_delete_button(stack: Stack) -> None:
    """`/media info` shows status, duration and resolution, and a Delete that asks first."""
    video = acme(stack, "Product launch keynote")
    reply = await stack.command("/media", f"info {video.uuid}", VIEWER)
    text = text_of(reply)
    assert "Product launch keynote" in text and "published" in text and "1920x1080" in text
    delete = next(b for b in buttons(reply["blocks"]) if b["action_id"] == MEDIA_DELETE)
    assert delete["value"] == video.uuid
    assert delete["confirm"]["style"] == "danger"
    assert "permanently" in delete["confirm"]["text"]["text"]


async def test_provider_errors_are_shown_in_words(stack: Stack) -> None:
    """Unknown and other-tenant videos get StreamStack's own words, ephemerally."""
    missing = await stack.command("/media", "info 00000000-0000-0000-0000-000000000000", VIEWER)
    assert missing["text"] == ":x: StreamStack said: Resource not found"
    foreign = await stack.command("/media", f"info {globex(stack).uuid}", VIEWER)
    assert foreign["text"] == ":x: StreamStack said: Insufficient permissions (wrong tenant)"
    assert foreign["response_type"] == "ephemeral"


async def test_stats_render_numbers_and_breakdowns(stack: Stack) -> None:
    """`/media stats <uuid> 30d` shows the simulator's numbers with bars and percentages."""
    video = acme(stack, "Product launch keynote")
    expected = stack.streamstack.stats_for(video, "30d")
    reply = await stack.command("/media", f"stats {video.uuid} 30d", VIEWER)
    text = text_of(reply)
    assert f"{expected['views']:,}" in text
    assert "over *30d*" in text
    for section in ("Quality", "Devices", "Browsers", "Top countries"):
        assert f"*{section}*" in text
    top_device = max(expected["devices"], key=lambda k: (expected["devices"][k], k))
    share = expected["devices"][top_device] / expected["views"] * 100
    assert f"{share:5.1f}%" in text
    assert "█" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in reply["blocks"])


async def test_stats_period_is_checked_before_calling(stack: Stack) -> None:
    """An unknown period names the ten valid ones and calls nobody."""
    video = acme(stack, "Product launch keynote")
    reply = await stack.command("/media", f"stats {video.uuid} 2d", VIEWER)
    assert "unknown period `2d`" in reply["text"]
    assert "15m, 1h, 6h, 24h, 7d, 30d, 3m, 6m, 1y, all" in reply["text"]
    assert stack.streamstack_http.count("GET") == 0


async def test_upload_from_url_starts_an_import(stack: Stack) -> None:
    """`/media upload` creates the video at StreamStack and announces it without the query."""
    url = "https://cdn.example.com/raw/launch-teaser.mp4?X-Amz-Signature=abc123secret"
    reply = await stack.command("/media", f'upload {url} "Launch teaser"', MEDIA_USER)
    created = acme(stack, "Launch teaser")
    assert created.source_url == url
    assert reply["response_type"] == "in_channel"
    text = text_of(reply)
    assert "https://cdn.example.com/raw/launch-teaser.mp4" in text
    assert "abc123secret" not in text
    (event,) = stack.events("upload")
    assert event.outcome == "ok" and event.target_id == created.uuid
    assert "abc123secret" not in repr(event.params)


async def test_upload_title_defaults_to_file_name_and_needs_the_role(stack: Stack) -> None:
    """Without a title the file name is used; a viewer's upload is refused and audited."""
    await stack.command("/media", "upload https://example.com/v/summer-trailer.mov", MEDIA_USER)
    assert acme(stack, "summer-trailer")
    refused = await stack.command("/media", "upload https://example.com/x.mp4", VIEWER)
    assert "you need the *media* role" in refused["text"]
    assert [e.outcome for e in stack.events("upload")] == ["ok", "denied"]
    assert stack.streamstack_http.count("POST") == 1


async def test_presign_goes_only_to_the_requester(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """`/media presign` answers privately with URL, method, headers; audit and logs lack the URL."""
    caplog.set_level(logging.DEBUG)
    reply = await stack.command("/media", 'presign keynote.mp4 "Keynote 2026"', MEDIA_USER)
    created = acme(stack, "Keynote 2026")
    assert reply["response_type"] == "ephemeral"
    text = text_of(reply)
    assert created.upload_token and created.upload_token in text
    assert "PUT" in text and "Content-Type: video/mp4" in text
    (event,) = stack.events("upload")
    assert created.upload_token not in repr(event)
    assert event.params["filename"] == "keynote.mp4"
    assert created.upload_token not in caplog.text


async def test_presign_refuses_non_video_files(stack: Stack) -> None:
    """A file that is not a video is refused before StreamStack is asked."""
    reply = await stack.command("/media", "presign notes.txt", MEDIA_USER)
    assert "does not look like a video file" in reply["text"]
    assert stack.streamstack_http.count("POST") == 0


async def test_embed_snippet_with_flags(stack: Stack) -> None:
    """`/media embed <uuid> autoplay mute` gives the iframe with those flags in a code block."""
    video = acme(stack, "Product launch keynote")
    reply = await stack.command("/media", f"embed {video.uuid} autoplay mute", VIEWER)
    code = reply["blocks"][1]["text"]["text"]
    assert code.startswith("```") and "&lt;iframe" in code
    assert f"/player/{video.uuid}?autoplay=1&amp;amp;mute=1" in code
    bad = await stack.command("/media", f"embed {video.uuid} fullscreen", VIEWER)
    assert "unknown option `fullscreen`" in bad["text"]


async def test_media_help_lists_every_subcommand(stack: Stack) -> None:
    """`/media help` is answered in the ack with every subcommand's usage."""
    response = await stack.bot.command("/media", "help", user_id=VIEWER)
    for usage in ("list [page]", "info <uuid>", "stats <uuid> [period]", "delete <uuid>",
                  "upload <url> [title]", "presign <filename> [title]",
                  "embed <uuid> [autoplay] [loop] [mute]"):  # fmt: skip
        assert f"/media {usage}" in html.unescape(response.text)  # as Slack shows it
