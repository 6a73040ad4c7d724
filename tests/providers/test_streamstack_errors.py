"""StreamStackClient error mapping, retries and defensive parsing over httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderNotFound,
    ProviderUnavailable,
    RateLimited,
)
from bot.providers._http import RetryPolicy
from bot.providers.streamstack import StreamStackClient
from bot.providers.streamstack_models import PresignedUpload
from tests.providers.streamstack_fixtures import Sleeps

KEY = "ss_mock_key_123"
Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that replays responses in order and records requests."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


def make(handler: Handler, sleeps: Sleeps | None = None) -> StreamStackClient:
    """A client on a MockTransport at https://streamstack.it."""
    http = httpx.AsyncClient(
        base_url="https://streamstack.it", transport=httpx.MockTransport(handler)
    )
    return StreamStackClient(
        http, api_key=KEY, retry=RetryPolicy(attempts=3), sleep=sleeps or Sleeps()
    )


def media(uuid: str = "u1", **extra: object) -> dict[str, object]:
    """A minimal media object."""
    return {"uuid": uuid, "title": "T", "status": "published", **extra}


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (401, {"message": "Unauthenticated."}, AuthFailed, "Unauthenticated."),
        (403, {"message": "Wrong tenant"}, Forbidden, "Wrong tenant"),
        (404, {"message": "Not here"}, ProviderNotFound, "Not here"),
        (413, {"message": "File too large"}, InvalidRequest, "File too large"),
        (
            422,
            {"message": "The given data was invalid.", "errors": {"title": ["Required."]}},
            InvalidRequest,
            "The given data was invalid. (title: Required.)",
        ),
        (422, {"errors": {"url": ["Bad.", "Worse."]}}, InvalidRequest, "url: Bad. Worse."),
    ],
)
async def test_status_codes_map_to_the_shared_hierarchy(
    status: int, body: dict[str, object], kind: type[Exception], message: str
) -> None:
    """Each documented status becomes its error class carrying the body's own words."""
    client = make(Recorder(httpx.Response(status, json=body)))
    with pytest.raises(kind) as info:
        await client.delete_media("u1")
    assert info.value.message == message  # type: ignore[attr-defined]
    assert info.value.status == status  # type: ignore[attr-defined]


async def test_a_non_json_error_body_falls_back_to_the_reason_phrase() -> None:
    """An HTML 502 from a proxy becomes ProviderUnavailable 'Bad Gateway'."""
    client = make(Recorder(httpx.Response(502, text="<html>bad gateway</html>")))
    with pytest.raises(ProviderUnavailable) as info:
        await client.delete_media("u1")
    assert info.value.message == "Bad Gateway"


async def test_error_messages_never_echo_the_key_or_urls() -> None:
    """A provider message quoting our key or a URL is masked before it is raised."""
    body = {"message": f"key {KEY} refused for https://streamstack.it/api/v1/media?x=1"}
    client = make(Recorder(httpx.Response(401, json=body)))
    with pytest.raises(AuthFailed) as info:
        await client.list_media()
    assert KEY not in str(info.value) and "https://" not in str(info.value)
    assert info.value.message == "key *** refused for <url>"


async def test_reads_are_retried_on_5xx_then_succeed() -> None:
    """A get retries two 503s with backoff and returns the third reply."""
    recorder = Recorder(
        httpx.Response(503, json={"message": "down"}),
        httpx.Response(500, json={"message": "oops"}),
        httpx.Response(200, json={"data": media()}),
    )
    sleeps = Sleeps()
    client = make(recorder, sleeps)
    assert (await client.get_media("u1")).uuid == "u1"
    assert len(recorder.requests) == 3 and len(sleeps.calls) == 2


async def test_reads_give_up_after_the_last_timeout() -> None:
    """Three timeouts on a stats read raise ProviderUnavailable('timed out')."""
    recorder = Recorder(httpx.ReadTimeout("slow"))
    client = make(recorder)
    with pytest.raises(ProviderUnavailable) as info:
        await client.stats("u1", "7d")
    assert info.value.message == "timed out"
    assert len(recorder.requests) == 3


@pytest.mark.parametrize("reply", [httpx.Response(503), httpx.ReadTimeout("slow")])
@pytest.mark.parametrize("call", ["delete", "presign", "from_url"])
async def test_state_changing_calls_are_sent_once(
    call: str, reply: httpx.Response | Exception
) -> None:
    """Delete and both uploads are never retried after a 5xx or a timeout."""
    recorder = Recorder(reply)
    sleeps = Sleeps()
    client = make(recorder, sleeps)
    with pytest.raises(ProviderUnavailable):
        if call == "delete":
            await client.delete_media("u1")
        elif call == "presign":
            await client.presign_upload(title="t", filename="f.mp4")
        else:
            await client.upload_from_url(title="t", url="https://example.com/v.mp4")
    assert len(recorder.requests) == 1 and sleeps.calls == []


async def test_a_429_on_a_read_waits_retry_after() -> None:
    """A read told Retry-After: 1 sleeps exactly one second and tries again."""
    recorder = Recorder(
        httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "1"}),
        httpx.Response(200, json={"data": [media()], "meta": {"last_page": 1}}),
    )
    sleeps = Sleeps()
    client = make(recorder, sleeps)
    assert len((await client.list_media()).items) == 1
    assert sleeps.calls == [1.0]


async def test_a_429_with_a_long_wait_is_raised_with_retry_after() -> None:
    """A Retry-After beyond the policy's limit is not waited; the caller gets it."""
    client = make(Recorder(httpx.Response(429, headers={"Retry-After": "120"})))
    with pytest.raises(RateLimited) as info:
        await client.list_media()
    assert info.value.retry_after == 120.0


async def test_api_calls_send_the_bearer_key_and_accept_json() -> None:
    """Every API call carries Authorization: Bearer and Accept: application/json."""
    recorder = Recorder(httpx.Response(200, json=media()))
    client = make(recorder)
    await client.get_media("a/b")
    request = recorder.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.url.raw_path == b"/api/v1/media/a%2Fb"


async def test_the_presigned_put_never_carries_the_api_key() -> None:
    """Uploading to object storage sends the bytes and the given headers but no Authorization."""
    recorder = Recorder(httpx.Response(200))
    http = httpx.AsyncClient(
        base_url="https://streamstack.it",
        headers={"Authorization": f"Bearer {KEY}"},
        transport=httpx.MockTransport(recorder),
    )
    client = StreamStackClient(http, api_key=KEY)
    target = PresignedUpload(
        uuid="u1",
        upload_url="https://bucket.example/u1?sig=abc",
        headers={"Content-Type": "video/mp4"},
    )
    await client.upload_bytes(target, b"data")
    request = recorder.requests[0]
    assert request.method == "PUT" and str(request.url) == "https://bucket.example/u1?sig=abc"
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "video/mp4" and request.content == b"data"
    assert "sig=abc" not in repr(target)


async def test_list_accepts_a_bare_top_level_array() -> None:
    """A list reply that is a plain array is one complete page; bad entries are skipped."""
    rows = [media("u1"), {"title": "no uuid"}, "junk", media("u2", duration="12.5")]
    client = make(Recorder(httpx.Response(200, json=rows)))
    page = await client.list_media()
    assert [m.uuid for m in page.items] == ["u1", "u2"]
    assert page.items[1].duration == 12.5
    assert not page.has_next
    assert [m.uuid for m in await client.list_all()] == ["u1", "u2"]


async def test_list_all_stops_at_an_empty_page() -> None:
    """A meta that promises more pages than exist does not loop: an empty page ends it."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [media(f"p{page}")] if page <= 2 else []
        return httpx.Response(
            200, json={"data": rows, "meta": {"current_page": page, "last_page": 99}}
        )

    client = make(handler)
    assert [m.uuid for m in await client.list_all()] == ["p1", "p2"]


async def test_missing_fields_get_safe_defaults() -> None:
    """A media object with only a uuid parses, with unknown status and empty URLs."""
    client = make(Recorder(httpx.Response(200, json={"uuid": "u9"})))
    item = await client.get_media("u9")
    assert (item.title, item.status, item.duration, item.profiles) == ("", "unknown", None, ())
    assert item.urls.player is None and item.created_at is None


async def test_stats_with_missing_numbers_read_as_zero() -> None:
    """Stats lacking fields still parse; breakdown values that are not numbers are dropped."""
    body = {"data": {"views": "42", "devices": {"desktop": 40, "mobile": "2", "x": "n/a"}}}
    client = make(Recorder(httpx.Response(200, json=body)))
    stats = await client.stats("u1", "24h")
    assert (stats.uuid, stats.period, stats.views, stats.watching_now) == ("u1", "24h", 42, 0)
    assert stats.devices == {"desktop": 40, "mobile": 2} and stats.geo == {}


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json={"title": "no uuid"}),
        httpx.Response(200, json=["wrong", "shape"]),
    ],
)
async def test_an_unusable_success_reply_is_provider_unavailable(reply: httpx.Response) -> None:
    """A 200 that is not JSON or lacks a uuid raises ProviderUnavailable, not a raw error."""
    client = make(Recorder(reply))
    with pytest.raises(ProviderUnavailable):
        await client.get_media("u1")


async def test_presign_reply_without_upload_url_is_provider_unavailable() -> None:
    """A presign reply missing its upload URL cannot be used and says so."""
    client = make(Recorder(httpx.Response(201, json={"uuid": "u1"})))
    with pytest.raises(ProviderUnavailable):
        await client.presign_upload(title="t", filename="f.mp4")


async def test_a_connection_error_is_provider_unavailable() -> None:
    """A refused connection on a read becomes ProviderUnavailable naming the error type."""
    client = make(Recorder(httpx.ConnectError("refused")))
    with pytest.raises(ProviderUnavailable) as info:
        await client.list_media()
    assert info.value.message == "could not connect (ConnectError)"


async def test_request_bodies_are_the_documented_json() -> None:
    """Presign and upload-from-URL POST exactly the documented JSON fields."""
    recorder = Recorder(
        httpx.Response(201, json={"uuid": "u1", "upload_url": "https://b/u1", "method": "put"}),
        httpx.Response(201, json={"data": media("u2", status="processing")}),
    )
    client = make(recorder)
    target = await client.presign_upload(title="My Video", filename="video.mp4")
    imported = await client.upload_from_url(title="My Video", url="https://example.com/v.mp4")
    bodies = [json.loads(r.content) for r in recorder.requests]
    assert bodies == [
        {"title": "My Video", "filename": "video.mp4", "content_type": "video/mp4"},
        {"title": "My Video", "url": "https://example.com/v.mp4"},
    ]
    paths = [r.url.path for r in recorder.requests]
    assert paths == ["/api/v1/upload/presign", "/api/v1/upload/url"]
    assert target.method == "PUT" and imported.status == "processing"
