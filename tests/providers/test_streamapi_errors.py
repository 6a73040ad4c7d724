"""StreamAPI error paths and retries, through httpx.MockTransport with a no-op sleep."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderError,
    ProviderNotFound,
    ProviderUnavailable,
    RateLimited,
)
from bot.providers.streamapi import from_settings
from bot.providers.streamapi_sign import signature
from bot.settings import Settings
from tests.providers.streamapi_fixtures import MOCK_KEY, MOCK_SECRET, Sleeps, mock_client, xml

THEMES = xml("<code>0</code><themes><theme id='7'><name>Classic</name></theme></themes>")
CREATED = xml(
    "<code>0</code><private_hostid>ABC123</private_hostid><public_hostid>1</public_hostid>"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<response><code>0</code><themes><theme id="1"><name>&lol4;</name></theme></themes></response>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<response><code>0</code><themes><theme id="1"><name>&xxe;</name></theme></themes></response>"""


class Recorder:
    """A MockTransport handler that replays canned responses and records requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item

    def params(self, index: int) -> dict[str, str]:
        """The decoded query (GET) or form (POST) parameters of a recorded request."""
        request = self.requests[index]
        raw = request.content.decode() if request.method == "POST" else request.url.query.decode()
        return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def ok(body: bytes = THEMES, status: int = 200, **headers: str) -> httpx.Response:
    """A canned reply."""
    return httpx.Response(status, content=body, headers=headers)


async def test_request_is_signed_per_the_documented_rule() -> None:
    """A GET carries key, rid and a sig over the sorted values + secret + rid."""
    recorder = Recorder(ok())
    await mock_client(recorder).videos(public_hostid="1000016132")
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("GET", "/service/video/list")
    params = recorder.params(0)
    assert params["key"] == MOCK_KEY
    unsigned = {"key": MOCK_KEY, "public_hostid": "1000016132"}
    assert params["sig"] == signature(unsigned, MOCK_SECRET, params["rid"])


async def test_create_sends_a_signed_form_body() -> None:
    """create_session POSTs form-encoded, signed parameters (true/false for the flag)."""
    recorder = Recorder(ok(CREATED))
    await mock_client(recorder).create_session(username="alice", is_video_private=False)
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    params = recorder.params(0)
    assert params["is_video_private"] == "false"
    unsigned = {k: v for k, v in params.items() if k not in ("sig", "rid")}
    assert params["sig"] == signature(unsigned, MOCK_SECRET, params["rid"])


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1, InvalidRequest),
        (8, ProviderNotFound),
        (46, ProviderNotFound),
        (100, ProviderUnavailable),
        (200, AuthFailed),
        (201, Forbidden),
        (202, AuthFailed),
        (203, InvalidRequest),
        (999, ProviderUnavailable),
    ],
)
async def test_error_codes_map_to_the_shared_hierarchy(code: int, cls: type[ProviderError]) -> None:
    """Each documented code raises its class, keeping the code and the provider's words."""
    recorder = Recorder(ok(xml(f"<code>{code}</code><msg>words for {code}</msg>")))
    with pytest.raises(cls) as info:
        await mock_client(recorder).create_session()
    assert type(info.value) is cls
    assert (info.value.code, info.value.message) == (code, f"words for {code}")
    assert info.value.provider == "streamapi"


async def test_missing_msg_falls_back_to_documented_meaning() -> None:
    """Without <msg>, the documented text for the code is used."""
    with pytest.raises(ProviderNotFound, match="No session found"):
        await mock_client(Recorder(ok(xml("<code>46</code>")))).themes()


async def test_echoed_secret_is_masked_in_the_message() -> None:
    """If the provider echoed our key in <msg>, the error text masks it."""
    body = xml(f"<code>200</code><msg>Invalid API key {MOCK_KEY}</msg>")
    with pytest.raises(AuthFailed) as info:
        await mock_client(Recorder(ok(body))).themes()
    assert MOCK_KEY not in str(info.value)
    assert info.value.message == "Invalid API key ***"


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
async def test_xml_with_dtd_or_entities_is_refused_not_expanded(body: bytes) -> None:
    """An XML bomb or external entity is refused with a clear error, sent once, never expanded."""
    recorder = Recorder(ok(body))
    with pytest.raises(ProviderUnavailable, match="DTD or entities") as info:
        await mock_client(recorder).themes()
    assert "lol" not in str(info.value)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>gateway</html", "not well-formed"),
        (xml("<themes/>"), "no status code"),
        (xml("<code>zero</code>"), "no status code"),
    ],
)
async def test_unreadable_replies_are_provider_unavailable(body: bytes, words: str) -> None:
    """Malformed XML or a reply without an integer <code> is ProviderUnavailable."""
    with pytest.raises(ProviderUnavailable, match=words):
        await mock_client(Recorder(ok(body))).themes()


async def test_read_retries_5xx_with_fresh_rid_and_backoff() -> None:
    """A read that gets 503 is retried after a backoff sleep, with a new rid and sig."""
    sleeps = Sleeps()
    recorder = Recorder(ok(b"busy", status=503), ok())
    themes = await mock_client(recorder, sleep=sleeps).themes()
    assert [t.name for t in themes] == ["Classic"]
    first, second = recorder.params(0), recorder.params(1)
    assert int(second["rid"]) > int(first["rid"])
    assert second["sig"] != first["sig"]
    assert len(sleeps.waits) == 1 and 0 <= sleeps.waits[0] <= 0.1


async def test_read_gives_up_after_the_policy_attempts() -> None:
    """Timeouts on every attempt end in ProviderUnavailable after three requests."""
    recorder = Recorder(httpx.ReadTimeout("slow"))
    sleeps = Sleeps()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        await mock_client(recorder, sleep=sleeps).themes()
    assert len(recorder.requests) == 3
    assert len(sleeps.waits) == 2


async def test_xml_code_100_on_http_500_keeps_the_code() -> None:
    """A 5xx reply that still carries StreamAPI XML is mapped from its <code>."""
    body = xml("<code>100</code><msg>Unknown Error</msg>")
    with pytest.raises(ProviderUnavailable) as info:
        await mock_client(Recorder(ok(body, status=500))).themes()
    assert (info.value.code, info.value.status) == (100, 500)


@pytest.mark.parametrize(
    "failure",
    [
        ok(b"busy", status=503),
        ok(xml("<code>100</code>")),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
)
async def test_create_is_never_retried(failure: httpx.Response | Exception) -> None:
    """create_session is sent once whatever the failure."""
    recorder = Recorder(failure, ok(CREATED))
    sleeps = Sleeps()
    with pytest.raises(ProviderUnavailable):
        await mock_client(recorder, sleep=sleeps).create_session(username="a")
    assert len(recorder.requests) == 1
    assert sleeps.waits == []


async def test_read_waits_out_a_short_429() -> None:
    """A 429 with a short Retry-After is waited out exactly, then the read succeeds."""
    sleeps = Sleeps()
    recorder = Recorder(ok(b"slow down", status=429, **{"retry-after": "2"}), ok())
    assert len(await mock_client(recorder, sleep=sleeps).themes()) == 1
    assert sleeps.waits == [2.0]


async def test_long_429_is_raised_with_the_wait() -> None:
    """A 429 asking for longer than the policy allows is raised with retry_after."""
    recorder = Recorder(ok(b"slow down", status=429, **{"retry-after": "60"}))
    with pytest.raises(RateLimited) as info:
        await mock_client(recorder).themes()
    assert info.value.retry_after == 60.0
    assert len(recorder.requests) == 1


async def test_read_203_is_retried_once_with_a_larger_rid() -> None:
    """A read refused for its rid is resent once with a fresh, larger rid, without sleeping."""
    sleeps = Sleeps()
    recorder = Recorder(ok(xml("<code>203</code>")), ok())
    assert len(await mock_client(recorder, sleep=sleeps).themes()) == 1
    assert int(recorder.params(1)["rid"]) > int(recorder.params(0)["rid"])
    assert sleeps.waits == []


async def test_non_retryable_errors_are_raised_at_once() -> None:
    """An auth failure on a read is not retried."""
    recorder = Recorder(ok(xml("<code>202</code>")))
    with pytest.raises(AuthFailed):
        await mock_client(recorder).themes()
    assert len(recorder.requests) == 1


async def test_http_401_without_xml_maps_by_status() -> None:
    """A non-XML error status falls back to the shared status mapping."""
    with pytest.raises(AuthFailed) as info:
        await mock_client(Recorder(ok(b"no", status=401))).themes()
    assert info.value.status == 401 and info.value.code is None


async def test_reply_missing_host_ids_is_unavailable() -> None:
    """A successful create reply without the host ids is reported, not half-parsed."""
    with pytest.raises(ProviderUnavailable, match="public_hostid"):
        await mock_client(Recorder(ok(xml("<code>0</code>")))).create_session()


def test_from_settings_needs_both_credentials() -> None:
    """Without key and secret there is no client."""
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert from_settings(Settings(**base)) is None  # type: ignore[arg-type]
    only_key = Settings(**base, STREAMAPI_KEY="k")  # type: ignore[arg-type]
    assert from_settings(only_key) is None


async def test_from_settings_builds_a_configured_client() -> None:
    """The factory applies base URL and timeout, and its repr names no secret."""
    recorder = Recorder(ok())
    settings = Settings(  # type: ignore[call-arg]
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        STREAMAPI_KEY=MOCK_KEY,
        STREAMAPI_SECRET=MOCK_SECRET,
        STREAMAPI_BASE_URL="http://sim.test/service/",
        STREAMOPS_HTTP_TIMEOUT=3.5,
    )
    client = from_settings(settings, transport=httpx.MockTransport(recorder))
    assert client is not None
    try:
        await client.themes()
        assert str(recorder.requests[0].url).startswith("http://sim.test/service/theme/list?")
        assert recorder.requests[0].extensions["timeout"]["read"] == 3.5
        assert MOCK_KEY not in repr(client) and MOCK_SECRET not in repr(client)
    finally:
        await client.aclose()
