"""`/build upload` and `/media upload` alone open a form; a good submission runs the service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests import slack_requests
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env
from tests.handlers.media_fixtures import MEDIA_USER, Stack, running_stack
from tests.providers.streampixel_fixtures import BUILD_URL, SHOWROOM

CHANNEL = "C0FORMS"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    async with build_env(database) as running:
        yield running


async def opened_view(bot: Any) -> dict[str, Any]:
    """The view the bot last opened."""
    await bot.slack.wait_for(lambda s: bool(s.calls_to("views.open")), 20)
    call = bot.slack.calls_to("views.open")[-1]
    assert call["trigger_id"]
    view: dict[str, Any] = call["view"]
    return view


async def submit(bot: Any, view: dict[str, Any], values: dict[str, Any], user: str) -> Any:
    """Submit ``view`` with ``values`` (``{block_id: state}``) as ``user``; the ack's JSON."""
    state = {block: {block: value} for block, value in values.items()}
    response = await bot.post_signed(
        slack_requests.view_submission(
            view["callback_id"], view["private_metadata"], state, user_id=user
        )
    )
    assert response.status_code == 200
    return response.json() if response.content else {}


async def test_build_form_picks_a_project_by_name_and_uploads(env: Env) -> None:
    """The form lists projects by name; a bad URL is refused inline; a good one uploads."""
    await env.bot.command("/build", "upload", user_id=RELEASER, channel_id=CHANNEL)
    view = await opened_view(env.bot)
    options = view["blocks"][0]["element"]["options"]
    assert {o["value"] for o in options} >= {SHOWROOM}
    assert all(o["text"]["text"] != o["value"] for o in options)  # names, not ids

    bad = await submit(
        env.bot,
        view,
        {"project": {"selected_option": {"value": SHOWROOM}}, "build_url": {"value": "zip"}},
        RELEASER,
    )
    assert bad["response_action"] == "errors" and "build_url" in bad["errors"]

    ok = await submit(
        env.bot,
        view,
        {
            "project": {"selected_option": {"value": SHOWROOM}},
            "build_url": {"value": BUILD_URL},
            "auto_release": {"selected_options": []},
        },
        RELEASER,
    )
    assert ok == {}
    await env.bot.slack.wait_for(
        lambda s: any("queued for processing" in m.text for m in s.channel_messages(CHANNEL)), 20
    )
    (event,) = [e for e in env.bot.container.audit.events if e.action == "upload"]  # type: ignore[attr-defined]
    assert (event.outcome, event.actor_id, event.source) == ("ok", RELEASER, "modal")
    assert event.params["auto_release"] is False


async def test_a_viewer_gets_no_form(env: Env) -> None:
    """The role is checked before the form opens; the refusal is audited."""
    response = await env.bot.command("/build", "upload", user_id=VIEWER, channel_id=CHANNEL)
    assert response.status_code == 200
    await env.bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")), 20)
    assert "releaser" in json.dumps(env.bot.slack.calls_to("response_url")[-1])
    assert env.bot.slack.calls_to("views.open") == []


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    async with running_stack(database, streamapi=False) as running:
        yield running


async def test_media_form_checks_the_url_inline_then_imports(stack: Stack) -> None:
    """A non-https URL is named under its field; a good submission imports the video."""
    await stack.bot.command("/media", "upload", user_id=MEDIA_USER, channel_id=CHANNEL)
    view = await opened_view(stack.bot)
    bad = await submit(
        stack.bot,
        view,
        {"title": {"value": ""}, "video_url": {"value": "ftp://x/v.mp4"}},
        MEDIA_USER,
    )
    assert bad["response_action"] == "errors" and "video_url" in bad["errors"]
    ok = await submit(
        stack.bot,
        view,
        {"title": {"value": "Launch <b>"}, "video_url": {"value": "https://cdn.example.com/v.mp4"}},
        MEDIA_USER,
    )
    assert ok == {}
    await stack.bot.slack.wait_for(
        lambda s: any("Importing" in m.text for m in s.channel_messages(CHANNEL)), 20
    )
    assert any(m.title == "Launch <b>" for m in stack.streamstack.media.values())
    (message,) = [m for m in stack.bot.slack.channel_messages(CHANNEL) if "Importing" in m.text]
    assert "<b>" not in message.text and "&lt;b&gt;" in message.text
