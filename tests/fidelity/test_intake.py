"""`/slack/events` refuses oversized, badly stamped and non-UTF-8 requests before Bolt."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator

import pytest

from tests import slack_requests
from tests.harness import Bot


async def test_a_body_over_1_mib_is_413_without_buffering_it(bot: Bot) -> None:
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"text=" + b"a" * (64 * 1024)
        for _ in range(200):  # 12.8 MB if it were all read
            sent += len(chunk)
            yield chunk

    headers = slack_requests.signed_headers(b"")
    response = await bot.http.post(f"{bot.url}/slack/events", content=stream(), headers=headers)
    assert response.status_code == 413
    assert sent > 1024 * 1024
    big = await bot.post_signed(b"text=" + b"a" * (2 * 1024 * 1024))  # with Content-Length
    assert big.status_code == 413


@pytest.mark.parametrize("timestamp", ["", "soon", "12e3", "-5", "1" * 40])
async def test_a_non_numeric_timestamp_is_401(bot: Bot, timestamp: str) -> None:
    body = slack_requests.slash_command("/streamops", "help")
    headers = slack_requests.signed_headers(body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401


async def test_a_non_utf8_body_is_400(bot: Bot) -> None:
    body = b"command=%2Fstreamops&text=\xff\xfe"
    timestamp = str(int(time.time()))
    digest = hmac.new(
        slack_requests.SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, "sha256"
    ).hexdigest()
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 400


async def test_a_signed_request_still_works(bot: Bot) -> None:
    response = await bot.command("/streamops", "help")
    assert response.status_code == 200


async def test_a_signed_request_is_read_into_bolts_request_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The guard's reading is the one Bolt dispatches: the body is not parsed twice.
    from slack_bolt.request import async_request

    reads = 0
    original = async_request.AsyncBoltRequest.__init__

    def counted(self: async_request.AsyncBoltRequest, *args: object, **kwargs: object) -> None:
        nonlocal reads
        reads += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(async_request.AsyncBoltRequest, "__init__", counted)
    response = await bot.command("/streamops", "help")
    assert response.status_code == 200
    assert reads == 1
    await bot.slack.wait_for(lambda s: bool(s.calls_to("response_url")))


async def test_slash_text_over_4000_characters_gets_the_usage(bot: Bot) -> None:
    response = await bot.command("/build", "upload " + "x" * 5000)
    assert response.status_code == 200
    assert "more than 4000 characters" in response.text
    [shown] = bot.slack.calls_to("response_url")  # the ack, as Slack shows it; nothing posted
    assert shown["_in_ack"] is True


async def test_a_bad_signature_is_logged_without_its_body(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = slack_requests.slash_command("/streamops", "help", response_url="https://hooks.x/SECRET")
    headers = slack_requests.signed_headers(body, secret="not-the-secret")
    response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert all("SECRET" not in r.getMessage() for r in caplog.records)
    assert any("request body not logged" in r.getMessage() for r in caplog.records)


async def test_response_urls_are_not_logged_at_info(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    url = bot.response_url("secret-response-path")
    await bot.command("/streamops", "help", response_url=url)
    await bot.command("/streamops", "subscriptions", response_url=url)
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) >= 1)
    assert all("secret-response-path" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
        (b'{"enterprise": 5}', "application/json"),
        (b"[1, 2]", "application/json"),
    ],
)
async def test_a_body_bolt_cannot_read_is_400_signed_or_not(
    bot: Bot, body: bytes, content_type: str
) -> None:
    """Bolt parses before it verifies: these bodies made it raise (500), signed or not."""
    signed = slack_requests.signed_headers(body, content_type=content_type)
    forged = slack_requests.signed_headers(body, content_type=content_type, secret="x")
    for headers in (signed, forged):
        response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)
        assert (response.status_code, response.json()) == (
            400,
            {"error": "request body is not a Slack payload"},
        )


@pytest.mark.parametrize(
    "fields",
    [{"trigger_id": "L\x07\x00x"}, {"user_id": "U\x00"}],
    ids=["NUL in trigger_id", "NUL in user_id"],
)
async def test_a_signed_command_whose_ids_no_column_can_hold_is_400(
    bot: Bot, fields: dict[str, str]
) -> None:
    """The replay guard stores the trigger_id and user: a NUL made PostgreSQL raise (500)."""
    body = slack_requests.slash_command(
        "/streamops", "help", response_url=bot.response_url(), **fields
    )
    response = await bot.post_signed(body)
    assert (response.status_code, response.text) == (400, "malformed delivery id")
