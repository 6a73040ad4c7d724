"""Hostile slash-command text and raw bodies against the real app: never a 5xx, always an answer.

The text goes through the shlex-based parser (``handlers.router.Invocation.parse``):
unbalanced quotes, backslashes, control and non-BMP characters, and lengths
around the 4,000-character cap. Raw signed bodies (any bytes, any form fields)
go through the intake guard and Bolt. The default run draws a few dozen of
each; ``pytest -m slow`` draws 10,000 texts and 10,000 bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from handlers.intake import MAX_COMMAND_TEXT
from handlers.router import Invocation
from tests import slack_requests
from tests.harness import Bot

COMMANDS = ("/build", "/media", "/live", "/audit", "/streamops")
#: What shlex reads specially, and words the routers know that only read (never a real action).
_PARTS = ('"', "'", "\\", " ", "\t", "\n", "\r", "help", "=", "user=", "<@U1|x>", "#", "--", "&")
_chars = st.characters(codec="utf-8")  # Slack sends UTF-8: no lone surrogates
texts = st.one_of(
    st.text(_chars, max_size=40),
    st.lists(st.one_of(st.sampled_from(_PARTS), st.text(_chars, max_size=4)), max_size=12).map(
        "".join
    ),
    st.builds(
        lambda n, fill: fill * n,
        st.integers(MAX_COMMAND_TEXT - 3, MAX_COMMAND_TEXT + 3),
        st.sampled_from(["a", '"', "\\", "é", "😀"]),
    ),
)
_fields = st.dictionaries(
    st.sampled_from(["command", "text", "user_id", "channel_id", "trigger_id", "payload", "x"]),
    st.text(_chars, max_size=20),
    max_size=5,
).map(lambda d: urlencode(d).encode())
raw_bodies = st.one_of(st.binary(max_size=100), _fields)

SHARED_BOT = settings(
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
)
THOROUGH = settings(SHARED_BOT, max_examples=10_000)


async def check_text(bot: Bot, command: str, text: str) -> None:
    """A command with ``text`` is acked (200) with usage or accepted; over the cap, refused."""
    response = await bot.command(command, text)
    assert response.status_code == 200, (command, text[:100])
    if len(text.strip()) > MAX_COMMAND_TEXT:
        assert f"more than {MAX_COMMAND_TEXT} characters" in response.text


def signed(body: bytes) -> dict[str, str]:
    """Slack's headers for any bytes (slack_sdk's signer only takes UTF-8 bodies)."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(slack_requests.SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def check_body(bot: Bot, body: bytes) -> None:
    """Any signed body gets an answer below 500; a non-UTF-8 one gets 400."""
    response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=signed(body))
    assert response.status_code < 500, body[:100]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        assert response.status_code == 400


@given(text=texts)
def test_the_parser_reads_any_text_or_says_why_not(text: str) -> None:
    """Invocation.parse returns words or raises InvalidInput, never anything else."""
    try:
        inv = Invocation.parse({"command": "/build", "text": text})
    except InvalidInput as exc:
        assert "could not read the arguments" in str(exc)
    else:
        assert inv.raw_text == text.strip()


@SHARED_BOT
@given(command=st.sampled_from(COMMANDS), text=texts)
async def test_any_command_text_is_answered_without_a_5xx(
    bot: Bot, command: str, text: str
) -> None:
    await check_text(bot, command, text)


@SHARED_BOT
@given(body=raw_bodies)
@example(body=urlencode({"command": "/streamops", "trigger_id": "L\x00"}).encode())  # was a 500
@example(body=b"payload=%7Bnot+json")  # was a 500
async def test_any_signed_body_is_answered_without_a_5xx(bot: Bot, body: bytes) -> None:
    await check_body(bot, body)


@pytest.mark.slow
@THOROUGH
@given(command=st.sampled_from(COMMANDS), text=texts)
async def test_any_command_text_is_answered_without_a_5xx_thorough(
    bot: Bot, command: str, text: str
) -> None:
    await check_text(bot, command, text)


@pytest.mark.slow
@THOROUGH
@given(body=raw_bodies)
async def test_any_signed_body_is_answered_without_a_5xx_thorough(bot: Bot, body: bytes) -> None:
    await check_body(bot, body)
