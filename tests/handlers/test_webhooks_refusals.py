"""Each reason a webhook body is refused, with its exact status and words, on both databases.

A refused body writes nothing: no delivery, no outbox row, no build row. A body
at a column's limit is stored (PostgreSQL refuses one character more, so the
limit is checked where the column is).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.requests import Request

from bot.webhooks.signatures import streamstack_signature
from handlers.webhooks import MAX_BODY_BYTES, read_capped
from storage.builds import KnownBuild
from storage.webhooks import WebhookStore
from tests.harness import Bot
from tests.webhook_helpers import counts, post_webhook, quiet_bot, streampixel, streamstack


@pytest.fixture
async def hook_bot(database) -> AsyncIterator[Bot]:
    """The running bot without its own delivery worker."""
    async with quiet_bot(database) as bot:
        yield bot


async def nothing_written(bot: Bot) -> bool:
    """No delivery, no outbox row, no known build."""
    async with bot.container.db.session() as session:
        builds = (await session.exec(select(func.count()).select_from(KnownBuild))).one()
    return await counts(bot.container.db) == (0, 0) and builds == 0


def nested(levels: int) -> Any:
    """A value that is ``levels`` arrays deep (``[[...[1]...]]``)."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def raw(text: str) -> bytes:
    """``text`` as the body, byte for byte (JSON escapes are written by hand in it)."""
    return text.encode()


SP = streampixel("build.uploaded")
SS = streamstack("media.uploaded")

STREAMPIXEL_REFUSALS: list[tuple[str, Any, str]] = [
    ("not UTF-8", b'{"event": "build.uploaded", "projectId": "p\xff"}', "body is not UTF-8"),
    ("UTF-16", json.dumps(SP).encode("utf-16"), "body is not UTF-8"),
    ("not JSON", b"{not json", "body is not valid JSON"),
    ("NaN", raw('{"event": "build.uploaded", "x": NaN}'), "body is not valid JSON"),
    ("huge integer", raw('{"x": ' + "9" * 5000 + "}"), "body is not valid JSON"),
    ("an array", b"[1, 2]", "body is not a JSON object"),
    ("33 levels", {**SP, "extra": nested(32)}, "body is nested deeper than 32 levels"),
    ("5,000 levels", b"[" * 5000 + b"]" * 5000, "body is nested deeper than 32 levels"),
    ("NUL in a field", {**SP, "status": "pend\x00ing"}, "body contains a NUL character"),
    ("NUL in a key", {**SP, "a\x00b": 1}, "body contains a NUL character"),
    ("NUL far inside", {**SP, "x": [{"y": ["\x00"]}]}, "body contains a NUL character"),
    (
        "lone surrogate",
        raw(json.dumps(SP)[:-1] + ', "x": "\\ud800"}'),
        "body contains a lone UTF-16 surrogate",
    ),
    (
        "lone low surrogate in a field",
        raw(json.dumps({**SP, "uploadId": "UPLOAD"}).replace("UPLOAD", "a\\udc00b")),
        "body contains a lone UTF-16 surrogate",
    ),
    (
        "uploadId too long",
        {**SP, "uploadId": "u" * 65},
        "field `uploadId` is longer than 64 characters",
    ),
    (
        "projectId too long",
        {**SP, "projectId": "é" * 65},
        "field `projectId` is longer than 64 characters",
    ),
    ("event too long", {**SP, "event": "e" * 65}, "field `event` is longer than 64 characters"),
    ("status too long", {**SP, "status": "s" * 65}, "field `status` is longer than 64 characters"),
    (
        "objection too long",
        {**SP, "objection": "o" * 501},
        "field `objection` is longer than 500 characters",
    ),
    (
        "timestamp too long",
        {**SP, "timestamp": "t" * 65},
        "field `timestamp` is longer than 64 characters",
    ),
    (
        "projectId missing",
        {k: v for k, v in SP.items() if k != "projectId"},
        "required field `projectId` is missing",
    ),
    ("projectId empty", {**SP, "projectId": ""}, "required field `projectId` is missing"),
    ("timestamp null", {**SP, "timestamp": None}, "required field `timestamp` is missing"),
    ("uploadId a number", {**SP, "uploadId": 42}, "field `uploadId` must be a string"),
    ("event an object", {**SP, "event": {"a": 1}}, "field `event` must be a string"),
]

STREAMSTACK_REFUSALS: list[tuple[str, Any, str]] = [
    ("uuid too long", {**SS, "uuid": "v" * 129}, "field `uuid` is longer than 128 characters"),
    (
        "data.uuid too long",
        {"event": "media.uploaded", "data": {"uuid": "v" * 129}},
        "field `data.uuid` is longer than 128 characters",
    ),
    (
        "uuid missing",
        {"event": "media.uploaded", "data": {"title": "x"}},
        "required field `uuid` is missing",
    ),
    ("data not an object", {**SS, "data": [1]}, "field `data` must be an object"),
    ("event missing", {"uuid": "v"}, "required field `event` is missing"),
    (
        "NUL in the title",
        {**SS, "data": {**SS["data"], "title": "a\x00"}},
        "body contains a NUL character",
    ),
    ("not UTF-8", b'{"event": "media.uploaded", "uuid": "\xc3\x28"}', "body is not UTF-8"),
    (
        "Infinity",
        raw('{"event": "media.uploaded", "uuid": "v", "data": {"duration": Infinity}}'),
        "body is not valid JSON",
    ),
]


def _body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("provider", "cases"),
    [("streampixel", STREAMPIXEL_REFUSALS), ("streamstack", STREAMSTACK_REFUSALS)],
)
async def test_each_refused_body_is_400_with_its_reason_and_writes_nothing(
    hook_bot: Bot, provider: str, cases: list[tuple[str, Any, str]]
) -> None:
    """One bot for every case (starting one per case would cost seconds each)."""
    answers = {}
    for name, payload, _ in cases:
        response = await post_webhook(hook_bot, provider, _body(payload))
        answers[name] = (response.status_code, response.json())
    assert answers == {name: (400, {"ok": False, "error": reason}) for name, _, reason in cases}
    assert await nothing_written(hook_bot)


async def test_32_levels_are_accepted(hook_bot: Bot) -> None:
    """The envelope is level 1; an extra field 31 arrays deep makes 32 levels: stored."""
    response = await post_webhook(hook_bot, "streampixel", {**SP, "extra": nested(31)})
    assert response.status_code == 200
    assert await counts(hook_bot.container.db) == (1, 1)


async def test_values_at_their_column_limits_are_stored(hook_bot: Bot) -> None:
    """64-character Streampixel ids and status (2-byte characters too), a 128-character uuid."""
    build = {
        **streampixel("build.rejected"),
        "projectId": "p" * 64,
        "uploadId": "é" * 64,
        "status": "s" * 64,
        "objection": "o" * 500,
        "event": "build.rejected",
    }
    assert (await post_webhook(hook_bot, "streampixel", build)).status_code == 200
    distributing = {**build, "event": "build.distributing", "uploadId": "u" * 64}
    assert (await post_webhook(hook_bot, "streampixel", distributing)).status_code == 200
    unknown = {**build, "event": "e" * 64}
    assert (await post_webhook(hook_bot, "streampixel", unknown)).status_code == 202
    video = {**streamstack("media.failed"), "uuid": "v" * 128}
    assert (await post_webhook(hook_bot, "streamstack", video)).status_code == 200
    stored = await WebhookStore(hook_bot.container.db).recent()
    assert sorted(len(d.subject or "") for d in stored) == [64, 64, 64, 128]
    async with hook_bot.container.db.session() as session:
        builds = (await session.exec(select(KnownBuild))).all()
    assert sorted(b.upload_id for b in builds) == ["u" * 64, "é" * 64]


async def test_descriptive_media_fields_of_the_wrong_type_are_dropped_not_refused(
    hook_bot: Bot,
) -> None:
    """StreamStack's title/status/duration/urls are shown, not stored: odd values are left out."""
    odd = {**SS, "data": {"uuid": SS["uuid"], "title": 7, "duration": "long", "urls": "x"}}
    response = await post_webhook(hook_bot, "streamstack", odd)
    assert response.status_code == 200


async def test_a_timestamp_past_year_9999_in_utc_is_stored_with_the_receive_time(
    hook_bot: Bot,
) -> None:
    late = {**streampixel("build.approved"), "timestamp": "9999-12-31T23:59:59-01:00"}
    early = {**streampixel("build.saving"), "timestamp": "0001-01-01T00:00:00+01:00"}
    assert (await post_webhook(hook_bot, "streampixel", late)).status_code == 200
    assert (await post_webhook(hook_bot, "streampixel", early)).status_code == 200
    assert await counts(hook_bot.container.db) == (2, 2)


async def test_a_body_over_the_cap_is_413_by_content_length_or_while_streaming(
    hook_bot: Bot,
) -> None:
    declared = await post_webhook(hook_bot, "streampixel", b"x" * (MAX_BODY_BYTES + 1))
    assert (declared.status_code, declared.json()["error"]) == (413, "body too large")

    async def stream() -> AsyncIterator[bytes]:  # chunked: no Content-Length
        for _ in range(8):
            yield b" " * (64 * 1024)

    response = await hook_bot.http.post(
        f"{hook_bot.url}/webhooks/streamstack/webhook-token-0123456789", content=stream()
    )
    assert (response.status_code, response.json()["error"]) == (413, "body too large")
    assert await nothing_written(hook_bot)


async def test_the_cap_is_applied_while_reading_not_after() -> None:
    """read_capped stops at the chunk that crosses the limit; the rest is never received."""
    chunks = [b"a" * 100] * 10 + [b""]
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        chunk = chunks[received - 1]
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    assert await read_capped(request, 250) is None
    assert received == 3
    received = 0
    whole = Request({"type": "http", "method": "POST", "headers": []}, receive)
    assert await read_capped(whole, 1000) == b"a" * 1000


async def test_a_bad_signature_stays_401_whatever_the_body(database) -> None:
    """Signature before content: an unsigned non-UTF-8 or too-deep body is 401, not 400."""
    secret = "streamstack-signing-secret"
    async with quiet_bot(database, STREAMSTACK_WEBHOOK_SECRET=secret) as bot:
        for body in (b"\xff\xfe", b"[" * 40 + b"]" * 40, raw('{"x": "\\u0000"}')):
            response = await post_webhook(bot, "streamstack", body)
            assert (response.status_code, response.json()["error"]) == (
                401,
                "signature missing or invalid",
            )
            signed = await post_webhook(
                bot,
                "streamstack",
                body,
                headers={"X-StreamStack-Signature": streamstack_signature(body, secret)},
            )
            assert signed.status_code == 400
        assert await nothing_written(bot)
