"""The fake Slack refuses what Slack refuses, over real HTTP with the real SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import slack_limits
from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import BackgroundServer, serve_in_background

TOKEN = "xoxb-fidelity-test"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeSlack, BackgroundServer, Clock]]:
    clock = Clock()
    slack = FakeSlack(token=TOKEN, clock=clock)
    async with serve_in_background(create_fake_slack(slack)) as server:
        yield slack, server, clock


def client(server: BackgroundServer, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=f"{server.url}/api/", retry_handlers=[])


async def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    data: dict[str, Any] = caught.value.response.data
    return data


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


async def test_manifest_scopes_are_the_default_grant(fake: Any) -> None:
    """Out of the box the fake grants exactly what manifest.yml requests."""
    slack, _, _ = fake
    assert slack.scopes == slack_limits.manifest_scopes()


async def test_a_method_outside_the_scopes_answers_missing_scope(fake: Any) -> None:
    """users.info needs users:read, which the manifest does not request."""
    slack, server, _ = fake
    data = await refused(client(server).users_info(user="U1"))
    assert data["error"] == "missing_scope"
    assert data["needed"] == "users:read"
    assert slack.refusals()[-1].error == "missing_scope"


async def test_conversations_open_needs_im_write(fake: Any) -> None:
    slack, server, _ = fake
    slack.scopes = frozenset({"chat:write"})
    data = await refused(client(server).conversations_open(users="U1"))
    assert data["error"] == "missing_scope" and "im:write" in data["needed"]
    slack.scopes = frozenset({"im:write"})
    opened = await client(server).conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1"


async def test_a_wrong_token_answers_invalid_auth_and_none_not_authed(fake: Any) -> None:
    _, server, _ = fake
    assert (await refused(client(server, "xoxb-other").auth_test()))["error"] == "invalid_auth"
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.url}/api/auth.test")
    assert response.json() == {"ok": False, "error": "not_authed"}


async def test_channels_must_exist(fake: Any) -> None:
    slack, server, _ = fake
    web = client(server)
    assert (await refused(web.chat_postMessage(channel="#general", text="x")))[
        "error"
    ] == "channel_not_found"
    slack.unknown_channels.add("C0GONE")
    assert (await refused(web.chat_postMessage(channel="C0GONE", text="x")))[
        "error"
    ] == "channel_not_found"


async def test_not_in_channel_without_chat_write_public(fake: Any) -> None:
    slack, server, _ = fake
    slack.scopes = frozenset({"chat:write"})
    web = client(server)
    assert (await refused(web.chat_postMessage(channel="C0PUBLIC", text="x")))[
        "error"
    ] == "not_in_channel"
    slack.joined.add("C0PUBLIC")
    assert (await web.chat_postMessage(channel="C0PUBLIC", text="x"))["ok"]
    slack.scopes = frozenset({"chat:write", "chat:write.public"})
    assert (await web.chat_postMessage(channel="C0OTHER", text="x"))["ok"]


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x")] * 51, "no more than 50 items"),
        ([section("x" * 3001)], "less than 3001"),
        ([section("", fields=None)], "non-empty"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "151"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "plain_text"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "1 to 10"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "1 to 10"),
        ([section("a", block_id="b"), section("b", block_id="b")], "duplicate id"),
        ([section("a", block_id="b" * 256)], "less than 256"),
        ([{"type": "nonsense"}], "unknown block type"),
    ],
)
async def test_block_kit_limits_answer_invalid_blocks(
    fake: Any, blocks: list[dict[str, Any]], problem: str
) -> None:
    _, server, _ = fake
    data = await refused(client(server).chat_postMessage(channel="C1", text="t", blocks=blocks))
    assert data["error"] == "invalid_blocks"
    assert any(problem in e for e in data["errors"]), data["errors"]


def _button(**overrides: Any) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Go"},
        "action_id": "go",
        "value": "v",
    }
    element.update(overrides)
    return {"type": "actions", "elements": [element]}


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (_button(text={"type": "plain_text", "text": "b" * 76}), "less than 76"),
        (_button(value="v" * 2001), "2000"),
        (_button(action_id="a" * 256), "less than 256"),
        (
            {"type": "actions", "elements": [_button()["elements"][0]] * 2},
            "duplicate id",
        ),
        (
            _button(
                confirm={
                    "title": {"type": "plain_text", "text": "t" * 101},
                    "text": {"type": "plain_text", "text": "x"},
                    "confirm": {"type": "plain_text", "text": "y"},
                    "deny": {"type": "plain_text", "text": "n"},
                }
            ),
            "less than 101",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [
                            {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}
                        ],
                    }
                ],
            },
            "150",
        ),
    ],
)
async def test_element_limits_answer_invalid_blocks(
    fake: Any, block: dict[str, Any], problem: str
) -> None:
    _, server, _ = fake
    data = await refused(client(server).chat_postMessage(channel="C1", text="t", blocks=[block]))
    assert data["error"] == "invalid_blocks"
    assert any(problem in e for e in data["errors"]), data["errors"]


async def test_text_over_40000_characters_is_msg_too_long(fake: Any) -> None:
    _, server, _ = fake
    web = client(server)
    assert (await web.chat_postMessage(channel="C1", text="x" * 40_000))["ok"]
    assert (await refused(web.chat_postMessage(channel="C1", text="x" * 40_001)))[
        "error"
    ] == "msg_too_long"


async def test_a_message_needs_text_or_blocks(fake: Any) -> None:
    _, server, _ = fake
    data = await refused(client(server).api_call("chat.postMessage", json={"channel": "C1"}))
    assert data["error"] == "no_text"


async def test_ratelimited_per_method_with_retry_after(fake: Any) -> None:
    slack, server, _ = fake
    slack.method_retry_after["chat.update"] = 7
    with pytest.raises(SlackApiError) as caught:
        await client(server).chat_update(channel="C1", ts="1.1", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] in ("7", ["7"])
    assert (await client(server).chat_postMessage(channel="C1", text="x"))["ok"]


async def test_a_response_url_takes_five_posts_within_30_minutes(fake: Any) -> None:
    _, server, clock = fake
    async with httpx.AsyncClient() as http:
        url = f"{server.url}/response/abc"
        statuses = [(await http.post(url, json={"text": "hi"})).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [404]
        assert (await http.post(url, json={"text": "hi"})).text == "used_url"
        other = f"{server.url}/response/def"
        assert (await http.post(other, json={"text": "hi"})).status_code == 200
        clock.now += 30 * 60 + 1
        expired = await http.post(other, json={"text": "hi"})
        assert (expired.status_code, expired.text) == (404, "expired_url")
        bad = await http.post(f"{server.url}/response/ghi", json={"text": "x" * 40_001})
        assert (bad.status_code, bad.text) == (400, "msg_too_long")


async def test_trigger_ids_expire_after_3_seconds_and_work_once(fake: Any) -> None:
    slack, server, clock = fake
    web = client(server)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    fresh = slack.issue_trigger_id()
    assert (await web.views_open(trigger_id=fresh, view=view))["ok"]
    assert (await refused(web.views_open(trigger_id=fresh, view=view)))[
        "error"
    ] == "invalid_trigger_id"
    stale = slack.issue_trigger_id()
    clock.now += 3.5
    assert (await refused(web.views_open(trigger_id=stale, view=view)))[
        "error"
    ] == "expired_trigger_id"
    assert (await refused(web.views_open(trigger_id="123.456.abc", view=view)))[
        "error"
    ] == "invalid_trigger_id"


async def test_views_are_checked_too(fake: Any) -> None:
    slack, server, _ = fake
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}}
    data = await refused(
        client(server).views_open(trigger_id=slack.issue_trigger_id(), view=long_title)
    )
    assert data["error"] == "invalid_arguments"
    home = {"type": "home", "blocks": [section("x")] * 101}
    data = await refused(client(server).views_publish(user_id="U1", view=home))
    assert any("100" in e for e in data["errors"])


async def test_unknown_methods_answer_unknown_method(fake: Any) -> None:
    _, server, _ = fake
    data = await refused(client(server).api_call("chat.doSomethingOdd"))
    assert data["error"] == "unknown_method"
