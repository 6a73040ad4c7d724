"""Uploading a video shared in Slack to StreamStack: shortcut, DM offer, title modal, transfer.

A local file server stands in for Slack's ``url_private`` (it insists on the bot
token and streams a few megabytes); the StreamStack simulator takes the
presigned upload over real HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.serving import serve_in_background
from handlers.blocks.upload_modals import TITLE
from handlers.ids import (
    MEDIA_SLACK_UPLOAD_OFFER,
    MEDIA_SLACK_UPLOAD_SHORTCUT,
    MEDIA_SLACK_UPLOAD_VIEW,
)
from storage.db import Database
from tests import slack_requests
from tests.handlers.media_fixtures import MEDIA_USER, VIEWER, Stack, buttons, running_stack
from tests.harness import BOT_TOKEN

SIZE = 3 * 1024 * 1024 + 12345
CHUNK = 64 * 1024
CHANNEL = "C0CHANNEL1"
MESSAGE_TS = "1700000000.000100"


@dataclass
class Files:
    """The stand-in for Slack's file hosting: its URL and the requests it saw."""

    url: str
    seen: list[tuple[str, str]]


def files_app(seen: list[tuple[str, str]]) -> Starlette:
    """Serves ``SIZE`` bytes, made up on the fly, only with the bot token."""

    async def serve(request: Request) -> Response:
        seen.append((request.url.path, request.headers.get("authorization", "")))
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return Response(status_code=403)

        async def body() -> AsyncIterator[bytes]:
            left = SIZE
            while left > 0:
                piece = bytes([left % 251]) * min(CHUNK, left)
                left -= len(piece)
                yield piece

        return StreamingResponse(
            body(), media_type="video/mp4", headers={"content-length": str(SIZE)}
        )

    return Starlette(routes=[Route("/files-pri/{team}/{name}", serve)])


@pytest.fixture
async def files() -> AsyncIterator[Files]:
    seen: list[tuple[str, str]] = []
    async with serve_in_background(files_app(seen)) as server:
        yield Files(server.url, seen)


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    async with running_stack(database, streamapi=False) as running:
        yield running


def video_file(files: Files, name: str = "launch <trailer>.mp4") -> dict[str, Any]:
    """A Slack file object as a message carries it."""
    return {
        "id": "F0VIDEO1",
        "name": name,
        "title": name,
        "mimetype": "video/mp4",
        "filetype": "mp4",
        "size": SIZE,
        "url_private": f"{files.url}/files-pri/T0G9PQBBK-F0VIDEO1/trailer.mp4",
        "mode": "hosted",
    }


async def use_shortcut(stack: Stack, message: dict[str, Any], user: str) -> None:
    body = slack_requests.message_action(
        MEDIA_SLACK_UPLOAD_SHORTCUT,
        message,
        user_id=user,
        channel_id=CHANNEL,
        response_url=stack.bot.response_url("shortcut"),
    )
    response = await stack.bot.post_signed(body)
    assert response.status_code == 200, response.text
    assert response.text == ""


async def opened_view(stack: Stack, count: int = 1) -> dict[str, Any]:
    await stack.bot.slack.wait_for(lambda s: len(s.calls_to("views.open")) >= count)
    view: dict[str, Any] = stack.bot.slack.calls_to("views.open")[count - 1]["view"]
    return view


async def submit(stack: Stack, view: dict[str, Any], title: str, user: str) -> Any:
    values = {TITLE: {TITLE: {"type": "plain_text_input", "value": title}}}
    body = slack_requests.view_submission(
        MEDIA_SLACK_UPLOAD_VIEW, view["private_metadata"], values, user_id=user
    )
    return await stack.bot.post_signed(body)


def thread_replies(stack: Stack) -> list[Any]:
    return [m for m in stack.bot.slack.channel_messages(CHANNEL) if m.thread_ts == MESSAGE_TS]


async def test_shortcut_opens_the_modal_and_submit_streams_the_file(
    stack: Stack, files: Files
) -> None:
    """Shortcut → title modal; submit → the simulator gets every byte, the thread the outcome."""
    message = {"ts": MESSAGE_TS, "user": "U0POST", "text": "new cut", "files": [video_file(files)]}
    await use_shortcut(stack, message, MEDIA_USER)
    view = await opened_view(stack)
    assert view["callback_id"] == MEDIA_SLACK_UPLOAD_VIEW
    assert "launch &lt;trailer&gt;.mp4" in view["blocks"][0]["text"]["text"]
    assert files.seen == []  # nothing is read before the title is given

    response = await submit(stack, view, "Launch trailer v2", MEDIA_USER)
    assert response.status_code == 200 and response.text == ""
    await stack.bot.slack.wait_for(
        lambda s: any("Uploaded to StreamStack" in m.text for m in thread_replies(stack)),
        within=30,
    )
    (reply,) = thread_replies(stack)
    uploaded = [m for m in stack.streamstack.media.values() if m.title == "Launch trailer v2"]
    assert len(uploaded) == 1
    assert uploaded[0].size == SIZE
    assert f"Uploaded to StreamStack as `{uploaded[0].uuid}`" in reply.text
    assert "transcoding" in reply.text
    assert files.seen == [("/files-pri/T0G9PQBBK-F0VIDEO1/trailer.mp4", f"Bearer {BOT_TOKEN}")]
    # The first text was the 0% reply; it was edited as bytes moved, then finished.
    posted = [p for p in stack.bot.slack.calls_to("chat.postMessage") if p.get("thread_ts")]
    assert "0%" in posted[0]["text"]
    updates = [p["text"] for p in stack.bot.slack.calls_to("chat.update") if p["ts"] == reply.ts]
    partial = [int(n) for t in updates for n in re.findall(r"(\d+)% \(", t)]
    assert partial and all(0 < n < 100 for n in partial[:-1]), updates
    assert "Uploaded to StreamStack" in updates[-1]
    (event,) = stack.events("upload")
    assert (event.outcome, event.actor_id, event.source) == ("ok", MEDIA_USER, "modal")
    assert event.target_id == uploaded[0].uuid
    assert event.params["mode"] == "slack"
    assert event.params["slack_file"] == "F0VIDEO1"
    assert BOT_TOKEN not in json.dumps(event.params) + event.message


async def test_viewer_is_refused_at_the_shortcut_and_on_submit(stack: Stack, files: Files) -> None:
    """A viewer gets no modal; a forged submission is refused, audited, and moves nothing."""
    message = {"ts": MESSAGE_TS, "text": "cut", "files": [video_file(files)]}
    await use_shortcut(stack, message, VIEWER)
    await stack.bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) >= 1)
    (answer,) = stack.replies()
    assert "media" in answer["text"] and answer["response_type"] == "ephemeral"
    assert stack.bot.slack.calls_to("views.open") == []

    await use_shortcut(stack, message, MEDIA_USER)
    view = await opened_view(stack)
    before = len(stack.streamstack.media)
    await submit(stack, view, "Sneaky", VIEWER)
    await stack.bot.slack.wait_for(
        lambda s: any("failed" in m.text for m in thread_replies(stack)), within=10
    )
    (reply,) = thread_replies(stack)
    assert "media" in reply.text and "Traceback" not in reply.text
    assert len(stack.streamstack.media) == before
    assert files.seen == []
    (event,) = stack.events("upload")
    assert (event.outcome, event.actor_id, event.params["mode"]) == ("denied", VIEWER, "slack")


async def test_message_without_a_video_is_explained(stack: Stack, files: Files) -> None:
    """No video on the message: an ephemeral explanation, no modal."""
    pdf = {**video_file(files, "notes.pdf"), "mimetype": "application/pdf", "filetype": "pdf"}
    await use_shortcut(stack, {"ts": MESSAGE_TS, "text": "notes", "files": [pdf]}, MEDIA_USER)
    await stack.bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) >= 1)
    (answer,) = stack.replies()
    assert "no video file" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert stack.bot.slack.calls_to("views.open") == []


async def test_bad_title_is_an_inline_error(stack: Stack, files: Files) -> None:
    """An empty or too long title keeps the modal open with the reason under the input."""
    await use_shortcut(
        stack, {"ts": MESSAGE_TS, "text": "", "files": [video_file(files)]}, MEDIA_USER
    )
    view = await opened_view(stack)
    for title, words in (("   ", "needs a title"), ("x" * 300, "limit is 255")):
        response = await submit(stack, view, title, MEDIA_USER)
        answer = response.json()
        assert answer["response_action"] == "errors"
        assert words in answer["errors"][TITLE]
    assert thread_replies(stack) == []
    assert files.seen == []


async def test_video_sent_in_a_dm_gets_a_button_that_opens_the_modal(
    stack: Stack, files: Files
) -> None:
    """A DM with a video → an *Upload to StreamStack* button; its click opens the title modal."""
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D0DIRECT1",
        "channel_type": "im",
        "user": MEDIA_USER,
        "ts": MESSAGE_TS,
        "text": "",
        "files": [video_file(files)],
    }
    body = slack_requests.event_callback(event, event_id="Ev0DMVIDEO")
    response = await stack.bot.post_signed(body, content_type="application/json")
    assert response.status_code == 200
    await stack.bot.slack.wait_for(lambda s: bool(s.channel_messages("D0DIRECT1")))
    (offer,) = stack.bot.slack.channel_messages("D0DIRECT1")
    (button,) = buttons(offer.blocks)
    assert button["action_id"] == MEDIA_SLACK_UPLOAD_OFFER
    assert button["text"]["text"] == "Upload to StreamStack"

    await stack.bot.click(
        MEDIA_SLACK_UPLOAD_OFFER, button["value"], user_id=MEDIA_USER, channel_id="D0DIRECT1"
    )
    view = await opened_view(stack)
    meta = json.loads(view["private_metadata"])
    assert (meta["channel"], meta["thread_ts"], meta["file"]) == (
        "D0DIRECT1",
        MESSAGE_TS,
        "F0VIDEO1",
    )


async def test_non_video_in_a_dm_is_explained(stack: Stack, files: Files) -> None:
    """A DM with only a PDF is told what the bot takes; plain text DMs get no answer."""
    pdf = {**video_file(files, "notes.pdf"), "mimetype": "application/pdf"}
    for n, extra in enumerate(({"files": [pdf], "subtype": "file_share"}, {"text": "hi"})):
        event = {
            "type": "message",
            "channel": "D0DIRECT1",
            "channel_type": "im",
            "user": MEDIA_USER,
            "ts": f"170000000{n}.000100",
            **extra,
        }
        body = slack_requests.event_callback(event, event_id=f"Ev0DM{n}")
        response = await stack.bot.post_signed(body, content_type="application/json")
        assert response.status_code == 200
    await stack.bot.slack.wait_for(lambda s: bool(s.channel_messages("D0DIRECT1")))
    (answer,) = stack.bot.slack.channel_messages("D0DIRECT1")
    assert "is not a video" in answer.text and "*notes.pdf*" in answer.text


async def test_a_link_to_another_host_never_gets_the_token(stack: Stack, files: Files) -> None:
    """A file whose link is not Slack's (nor the configured API host's) is refused in words."""
    foreign = {
        **video_file(files),
        "url_private": video_file(files)["url_private"].replace("127.0.0.1", "localhost"),
    }
    await use_shortcut(stack, {"ts": MESSAGE_TS, "text": "", "files": [foreign]}, MEDIA_USER)
    view = await opened_view(stack)
    await submit(stack, view, "Trailer", MEDIA_USER)
    await stack.bot.slack.wait_for(
        lambda s: any("failed" in m.text for m in thread_replies(stack)), within=10
    )
    (reply,) = thread_replies(stack)
    assert "is not a Slack link" in reply.text
    assert files.seen == []
