"""The Streampixel API key stays out of logs, errors and reprs; building from settings."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.errors import AuthFailed, ProviderError, ProviderUnavailable, RateLimited
from bot.providers.streampixel import StreampixelClient, from_settings, secret_forms
from bot.sandbox.streampixel import DEMO_USER_ID
from bot.settings import Settings
from tests.providers.streampixel_fixtures import (
    APPROVED_BUILD,
    BUILD_URL,
    RETAIL,
    SHOWROOM,
    no_sleep,
    running_simulator,
    webhook_receiver,
)

#: Characters that URL-encoding changes, so the encoded form must be masked too.
CANARY = "CANARY-spx/9f+Zq:k=&v 7"


def settings(**overrides: object) -> Settings:
    """Settings built literally (no environment file) for Streampixel tests."""
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "STREAMPIXEL_API_KEY": CANARY,
        "STREAMPIXEL_USER_ID": DEMO_USER_ID,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]  # aliases, by name


def assert_no_canary(text: str) -> None:
    """Neither the canary nor any encoded form of it is in ``text``."""
    for form in (*secret_forms(CANARY), "CANARY"):
        assert form not in text


async def test_canary_key_never_appears_in_logs_errors_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With root, httpx and httpcore at DEBUG, real calls and failures never show the key."""
    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[ProviderError] = []
    async with webhook_receiver() as (_, url), running_simulator(url) as env:
        env.sim.accounts[DEMO_USER_ID].api_key = CANARY
        client = from_settings(settings(STREAMPIXEL_BASE_URL=env.base_url), sleep=no_sleep)
        assert client is not None
        await client.list_projects()
        await client.user_stats(SHOWROOM)
        await client.upload(RETAIL, BUILD_URL)
        await client.distribute(SHOWROOM, APPROVED_BUILD)
        await client.test_webhook(SHOWROOM)
        with pytest.raises(RateLimited) as limited:
            await client.upload(RETAIL, BUILD_URL)
        errors.append(limited.value)
        await env.sim.drain()
        stranger = env.client(api_key=CANARY, user_id="000000000000000000000000")
        with pytest.raises(AuthFailed) as refused:
            await stranger.list_projects()
        errors.append(refused.value)
        texts = [repr(client), repr(settings()), repr(stranger)]
        await stranger.aclose()
        await client.aclose()
    closed = from_settings(settings(STREAMPIXEL_BASE_URL="http://127.0.0.1:9/x"), sleep=no_sleep)
    assert closed is not None
    with pytest.raises(ProviderUnavailable) as unreachable:
        await closed.list_projects()
    errors.append(unreachable.value)
    await closed.aclose()

    requests = [r.getMessage() for r in caplog.records if r.getMessage().startswith("HTTP Request")]
    assert any("projects-status" in line and "apikey=***" in line for line in requests)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    for record in caplog.records:
        assert_no_canary(record.getMessage())
        assert_no_canary(repr(record.args))
        assert_no_canary(record.exc_text or "")
    assert_no_canary(caplog.text)
    for error in errors:
        assert_no_canary(f"{error} {error!r} {error.message}")
        assert_no_canary(repr(error.__cause__) + repr(error.__context__))
    for text in texts:
        assert_no_canary(text)


def test_from_settings_is_none_without_credentials() -> None:
    """Without an API key, with an empty one, or without a user id, there is no client."""
    assert from_settings(settings(STREAMPIXEL_API_KEY=None)) is None
    assert from_settings(settings(STREAMPIXEL_API_KEY="")) is None
    assert from_settings(settings(STREAMPIXEL_USER_ID=None)) is None


async def test_from_settings_uses_base_url_and_timeout() -> None:
    """The built client targets STREAMPIXEL_BASE_URL with STREAMOPS_HTTP_TIMEOUT."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"liveUser": 0, "queueUser": 0})

    client = from_settings(
        settings(STREAMPIXEL_BASE_URL="http://sim.test/pixelStripeApi/", STREAMOPS_HTTP_TIMEOUT=3),
        transport=httpx.MockTransport(handler),
    )
    assert isinstance(client, StreampixelClient)
    await client.user_stats(SHOWROOM)
    await client.aclose()
    assert str(seen[0].url).startswith(
        f"http://sim.test/pixelStripeApi/projects/userStats/{SHOWROOM}?"
    )
    assert seen[0].extensions["timeout"] == httpx.Timeout(3.0).as_dict()


def test_repr_names_the_user_but_not_the_key() -> None:
    """repr(client) shows the user id and base URL, never the key."""
    client = from_settings(settings(STREAMPIXEL_BASE_URL="http://sim.test/pixelStripeApi"))
    assert repr(client) == (
        f"StreampixelClient(user_id='{DEMO_USER_ID}', base_url='http://sim.test/pixelStripeApi/')"
    )
