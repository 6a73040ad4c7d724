"""The fake Slack's Socket Mode side behaves as Slack's: token kinds, one-use URLs, hello, acks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.sandbox.slack_socket import EVENTS_API, INTERACTIVE, SLASH_COMMANDS, socket_mode
from bot.serving import BackgroundServer, serve_in_background

BOT_TOKEN = "xoxb-fidelity-test"
APP_TOKEN = "xapp-1-A0STREAMOPS-1-fidelity-test"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeSlack, BackgroundServer]]:
    slack = FakeSlack(token=BOT_TOKEN, app_token=APP_TOKEN)
    async with serve_in_background(create_fake_slack(slack)) as server:
        yield slack, server


def client(server: BackgroundServer, token: str) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=f"{server.url}/api/", retry_handlers=[])


async def error_of(server: BackgroundServer, app_token: str) -> str:
    with pytest.raises(SlackApiError) as caught:
        await client(server, BOT_TOKEN).apps_connections_open(app_token=app_token)
    return str(caught.value.response["error"])


async def test_connections_open_takes_only_the_app_token(fake: Any) -> None:
    """A bot token is the wrong kind, another app token is invalid; Socket Mode off: denied."""
    slack, server = fake
    assert await error_of(server, APP_TOKEN) == "access_denied"  # no Socket Mode server
    async with socket_mode(slack) as sockets:
        assert await error_of(server, BOT_TOKEN) == "not_allowed_token_type"
        assert await error_of(server, "xapp-1-A0OTHER-1-other") == "invalid_auth"
        opened = await client(server, BOT_TOKEN).apps_connections_open(app_token=APP_TOKEN)
        assert opened["url"].startswith(f"{sockets.url}/link/?ticket=")
        assert opened["url"].endswith("&app_id=A0STREAMOPS")


async def test_an_app_token_calls_no_other_method(fake: Any) -> None:
    """chat.postMessage with the app-level token: not_allowed_token_type, as Slack answers."""
    _, server = fake
    with pytest.raises(SlackApiError) as caught:
        await client(server, APP_TOKEN).chat_postMessage(channel="C0CHANNEL1", text="hi")
    assert caught.value.response["error"] == "not_allowed_token_type"


async def test_a_url_opens_one_connection_that_says_hello_and_takes_acks(fake: Any) -> None:
    """hello first; envelopes framed like Slack's; an ack with a payload is recorded once."""
    slack, server = fake
    async with socket_mode(slack) as sockets, aiohttp.ClientSession() as http:
        url = (await client(server, BOT_TOKEN).apps_connections_open(app_token=APP_TOKEN))["url"]
        async with http.ws_connect(url) as ws:
            hello = await ws.receive_json(timeout=20)
            assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == "A0STREAMOPS"
            await sockets.wait_connected()

            command = await sockets.send(SLASH_COMMANDS, {"command": "/streamops", "text": ""})
            framed = await ws.receive_json(timeout=20)
            assert framed == {
                "envelope_id": command.envelope_id,
                "type": "slash_commands",
                "payload": {"command": "/streamops", "text": ""},
                "accepts_response_payload": True,
            }
            await ws.send_str(json.dumps({"envelope_id": command.envelope_id,
                                          "payload": {"text": "usage"}}))  # fmt: skip
            ack = await sockets.wait_ack(command.envelope_id)
            assert ack.payload == {"text": "usage"} and ack.seconds >= 0

            event = await sockets.send(
                EVENTS_API, {"type": "event_callback"}, retry_attempt=2, retry_reason="timeout"
            )
            framed = await ws.receive_json(timeout=20)
            assert framed["accepts_response_payload"] is False
            assert (framed["retry_attempt"], framed["retry_reason"]) == (2, "timeout")
            await ws.send_str(json.dumps({"envelope_id": event.envelope_id}))
            assert (await sockets.wait_ack(event.envelope_id)).payload is None

            click = await sockets.send(INTERACTIVE, {"type": "block_actions"})
            assert "retry_attempt" not in click.message()
            submission = await sockets.send(INTERACTIVE, {"type": "view_submission"})
            assert not click.accepts_response_payload and submission.accepts_response_payload
            await ws.send_str(json.dumps({"envelope_id": command.envelope_id}))  # twice
            await sockets.wait_for(lambda s: len(s.extra_acks) == 1)
        async with http.get(url) as reused:  # the ticket was used: refused, as a stale link
            assert reused.status == 401
