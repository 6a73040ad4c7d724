"""StreampixelClient request shapes, retries and error mapping, over httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from bot.errors import InvalidRequest, ProviderUnavailable, RateLimited
from bot.providers._http import RetryPolicy
from bot.providers.streampixel import DistributeResult, StreampixelClient, retry_after_from
from tests.providers.streampixel_fixtures import RecordingSleep

BASE = "https://api.streampixel.io/pixelStripeApi"
KEY = "sp-test-key-123"
USER = "663d0a1b2c3e4f5a6b7c8d9e"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
UPLOAD = "665a2b3c4d5e6f7a8b9c0e1f"
ZIP = "https://b.example.com/x.zip"
LIMITED = "Rate limit exceeded. Try again in 2 minutes."
PROJECTS_BODY = {"totalProjects": 0, "projects": []}

Reply = httpx.Response | Exception


@dataclass
class Script:
    """A MockTransport handler that plays ``replies`` in order and records requests."""

    replies: list[Reply]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def make(
    *replies: Reply, retry: RetryPolicy | None = None
) -> tuple[StreampixelClient, Script, RecordingSleep]:
    """A client whose transport plays ``replies``; returns it, the script and the sleep."""
    script = Script(list(replies))
    sleep = RecordingSleep()
    http = httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(script))
    return (
        StreampixelClient(http, api_key=KEY, user_id=USER, retry=retry, sleep=sleep),
        script,
        sleep,
    )


def ok(body: object) -> httpx.Response:
    """A 200 JSON response."""
    return httpx.Response(200, json=body)


def err(status: int, message: str) -> httpx.Response:
    """An error in Streampixel's ``{"message": ...}`` format."""
    return httpx.Response(status, json={"message": message})


def timeout() -> httpx.TimeoutException:
    """A read timeout."""
    return httpx.ReadTimeout("timed out")


async def test_get_sends_user_id_and_lowercase_apikey_in_the_query() -> None:
    """GET calls send ``userId`` and lowercase ``apikey`` as query parameters, no auth header."""
    client, script, _ = make(ok({"liveUser": 1, "queueUser": 0}))
    await client.user_stats("a/b")
    [request] = script.requests
    assert request.method == "GET"
    assert request.url.raw_path.startswith(b"/pixelStripeApi/projects/userStats/a%2Fb?")
    assert dict(request.url.params) == {"userId": USER, "apikey": KEY}
    assert "authorization" not in request.headers


async def test_post_sends_api_key_and_user_id_in_the_json_body() -> None:
    """POST calls carry ``apiKey``, ``userId`` and the call's fields in a JSON body."""
    client, script, _ = make(ok({"message": "Build queued for processing", "uploadId": UPLOAD}))
    await client.upload(PROJECT, "https://b.example.com/x.zip", auto_release=False)
    [request] = script.requests
    assert request.url.path == "/pixelStripeApi/projects/upload-file"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "apiKey": KEY,
        "userId": USER,
        "projectId": PROJECT,
        "fileUrl": "https://b.example.com/x.zip",
        "autoRelease": False,
    }
    assert not request.url.query


async def test_reads_are_retried_on_5xx_with_jittered_backoff() -> None:
    """Two 500s then success: three requests, two backoff sleeps within the policy's caps."""
    policy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=5.0)
    client, script, sleep = make(
        err(500, "Internal server error"), err(503, "down"), ok(PROJECTS_BODY), retry=policy
    )
    assert await client.list_projects() == []
    assert len(script.requests) == 3
    assert len(sleep.waits) == 2
    assert 0 <= sleep.waits[0] <= 0.5 and 0 <= sleep.waits[1] <= 1.0


async def test_reads_are_retried_on_timeouts_and_connection_errors() -> None:
    """A timeout and a connection error are retried; the third attempt succeeds."""
    client, script, _ = make(
        timeout(), httpx.ConnectError("refused"), ok({"liveUser": 3, "queueUser": 1})
    )
    assert (await client.user_stats(PROJECT)).live_users == 3
    assert len(script.requests) == 3


async def test_reads_give_up_after_the_last_attempt() -> None:
    """Three timeouts raise ProviderUnavailable "timed out" after exactly three requests."""
    client, script, _ = make(timeout(), timeout(), timeout())
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await client.list_projects()
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("call", "reply"),
    [
        (
            lambda c: c.upload(PROJECT, "https://b.example.com/x.zip"),
            err(500, "Internal server error"),
        ),
        (lambda c: c.upload(PROJECT, "https://b.example.com/x.zip"), timeout()),
        (lambda c: c.distribute(PROJECT, UPLOAD), timeout()),
        (lambda c: c.distribute(PROJECT, UPLOAD), err(502, "Bad gateway")),
        (lambda c: c.test_webhook(PROJECT), httpx.ConnectError("refused")),
    ],
)
async def test_state_changing_calls_are_sent_once(
    call: Callable[[StreampixelClient], Awaitable[object]], reply: Reply
) -> None:
    """Upload, distribute and test-webhook are never retried: one request, then the error."""
    client, script, sleep = make(reply, ok({}))
    with pytest.raises(ProviderUnavailable):
        await call(client)
    assert len(script.requests) == 1
    assert sleep.waits == []


async def test_rate_limit_on_a_read_is_raised_when_the_wait_is_long() -> None:
    """A 429 whose 2-minute wait exceeds the policy's limit is raised at once (retry_after=120)."""
    client, script, sleep = make(err(429, "Rate limit exceeded. Try again in 2 minutes."))
    with pytest.raises(RateLimited) as caught:
        await client.list_projects()
    assert caught.value.retry_after == 120
    assert caught.value.message == "Rate limit exceeded. Try again in 2 minutes."
    assert (len(script.requests), sleep.waits) == (1, [])


async def test_rate_limit_on_a_read_is_waited_out_when_allowed() -> None:
    """With a policy allowing long waits, a read sleeps the told 120 s and then succeeds."""
    policy = RetryPolicy(max_rate_limit_wait=300)
    client, _, sleep = make(err(429, LIMITED), ok(PROJECTS_BODY), retry=policy)
    assert await client.list_projects() == []
    assert sleep.waits == [120]


async def test_rate_limit_on_upload_is_not_waited_out() -> None:
    """An upload that gets 429 raises RateLimited at once, even when waiting is allowed."""
    policy = RetryPolicy(max_rate_limit_wait=300)
    client, script, sleep = make(
        err(429, "Rate limit exceeded. Try again in 2 minutes."), retry=policy
    )
    with pytest.raises(RateLimited):
        await client.upload(PROJECT, "https://b.example.com/x.zip")
    assert (len(script.requests), sleep.waits) == (1, [])


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Rate limit exceeded. Try again in 2 minutes.", 120),
        ("Rate limit exceeded. Try again in 45 seconds.", 45),
        ("Too many requests", 120),
    ],
)
def test_retry_after_is_read_from_the_message(message: str, seconds: float) -> None:
    """The wait comes from the 429 message's words, defaulting to the documented 120 s."""
    assert retry_after_from(message) == seconds


async def test_non_json_error_uses_the_reason_phrase() -> None:
    """An HTML 502 from a proxy becomes ProviderUnavailable "Bad Gateway" without its body."""
    page = httpx.Response(502, html="<html>upstream error</html>")
    client, _, _ = make(page, retry=RetryPolicy(attempts=1))
    with pytest.raises(ProviderUnavailable) as caught:
        await client.list_projects()
    assert caught.value.message == "Bad Gateway"


async def test_unsupported_media_type_is_an_invalid_request() -> None:
    """A 415 maps to InvalidRequest carrying the provider's message."""
    client, _, _ = make(err(415, "Unsupported Media Type"))
    with pytest.raises(InvalidRequest, match="Unsupported Media Type"):
        await client.test_webhook(PROJECT)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="not json"),
        ok(["a", "list"]),
        ok({"projects": [{"name": "no id"}]}),
        ok({"projects": None}),
    ],
)
async def test_malformed_success_bodies_are_unexpected_replies(reply: httpx.Response) -> None:
    """A 2xx body that is not the documented shape raises ProviderUnavailable "unexpected reply"."""
    client, _, _ = make(reply)
    with pytest.raises(ProviderUnavailable, match="unexpected reply"):
        await client.list_projects()


async def test_distribute_reads_the_alternative_documented_shape() -> None:
    """The GitBook-documented reply with uploadId and region is read too."""
    body = {
        "success": True,
        "uploadId": UPLOAD,
        "region": "us-east-1",
        "message": "File distribution triggered successfully",
    }
    client, _, _ = make(ok(body))
    result = await client.distribute(PROJECT, UPLOAD)
    assert result == DistributeResult(
        UPLOAD, "File distribution triggered successfully", "us-east-1"
    )


async def test_an_echoed_key_in_an_error_message_is_masked() -> None:
    """If the provider echoes our key in its message, the raised error shows *** instead."""
    client, _, _ = make(err(400, f"bad key {KEY}"))
    with pytest.raises(InvalidRequest) as caught:
        await client.upload(PROJECT, "https://b.example.com/x.zip")
    assert KEY not in str(caught.value)
    assert caught.value.message == "bad key ***"
