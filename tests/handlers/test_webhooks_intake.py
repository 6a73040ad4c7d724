"""Webhook intake over the real ASGI app: authentication, validation, dedupe, storage."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.webhooks.signatures import streamstack_signature
from storage.outbox import OutboxStore
from storage.webhooks import WebhookStore
from tests.harness import Bot
from tests.webhook_helpers import (
    PROJECT,
    UPLOAD,
    counts,
    post_webhook,
    quiet_bot,
    streampixel,
    streamstack,
)


@pytest.fixture
async def hook_bot(database) -> AsyncIterator[Bot]:
    """The running bot without its own delivery worker."""
    async with quiet_bot(database) as bot:
        yield bot


async def test_wrong_or_missing_token_is_404_and_stores_nothing(hook_bot) -> None:
    bot = hook_bot
    """A wrong token, an empty token and a token of another length all get 404 and no row."""
    for token in ("wrong-token-0123456789x", "x", "webhook-token-012345678"):
        response = await post_webhook(
            bot, "streampixel", streampixel("build.uploaded"), token=token
        )
        assert response.status_code == 404
    response = await post_webhook(bot, "streamstack", streamstack("media.uploaded"), token="nope")
    assert response.status_code == 404
    assert await counts(bot.container.db) == (0, 0)


async def test_unset_webhook_token_refuses_every_request(database) -> None:
    """With STREAMOPS_WEBHOOK_TOKEN unset, even the token tests normally use gets 404."""
    async with quiet_bot(database, STREAMOPS_WEBHOOK_TOKEN=None) as bot:
        response = await post_webhook(bot, "streampixel", streampixel("build.uploaded"))
        assert response.status_code == 404
        assert await counts(bot.container.db) == (0, 0)


async def test_malformed_bodies_are_400_with_a_reason_and_store_nothing(hook_bot) -> None:
    bot = hook_bot
    """Bad JSON, a non-object, a missing or wrongly typed field: each 400 with a reason."""
    cases = [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        ({k: v for k, v in streampixel("build.uploaded").items() if k != "projectId"}, "projectId"),
        ({**streampixel("build.uploaded"), "timestamp": None}, "timestamp"),
        ({**streampixel("build.uploaded"), "uploadId": 42}, "uploadId"),
    ]
    for body, reason in cases:
        response = await post_webhook(bot, "streampixel", body)
        assert response.status_code == 400, body
        assert reason in response.json()["error"]
    no_uuid = streamstack("media.uploaded")
    del no_uuid["uuid"]
    del no_uuid["data"]["uuid"]
    response = await post_webhook(bot, "streamstack", no_uuid)
    assert response.status_code == 400
    assert "uuid" in response.json()["error"]
    assert await counts(bot.container.db) == (0, 0)


async def test_known_event_is_stored_with_its_outbox_row_before_the_2xx(hook_bot) -> None:
    bot = hook_bot
    """The 200 comes after the delivery and its outbox row (default channel) are committed."""
    response = await post_webhook(bot, "streampixel", streampixel("build.uploaded"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": "queued"}
    rows = await OutboxStore(bot.container.db).rows()
    assert [(r.channel, r.subject_key, r.status) for r in rows] == [
        ("C0DEFAULT", f"streampixel:{UPLOAD}", "pending")
    ]
    [delivery] = await WebhookStore(bot.container.db).recent()
    assert (delivery.provider, delivery.event, delivery.subject, delivery.project) == (
        "streampixel",
        "build.uploaded",
        UPLOAD,
        PROJECT,
    )
    assert json.loads(delivery.payload)["status"] == "pending"


async def test_replayed_delivery_is_stored_once(hook_bot) -> None:
    bot = hook_bot
    """The same event twice (same ids and timestamp) yields one delivery and one outbox row."""
    first = await post_webhook(bot, "streampixel", streampixel("build.saving"))
    again = await post_webhook(bot, "streampixel", streampixel("build.saving"))
    later = await post_webhook(bot, "streampixel", streampixel("build.saving", minute=5))
    assert first.json()["result"] == "queued"
    assert again.status_code == 200
    assert again.json()["result"] == "duplicate"
    assert later.json()["result"] == "queued"
    assert await counts(bot.container.db) == (2, 2)


async def test_unknown_event_is_stored_and_answered_202_without_a_notification(hook_bot) -> None:
    bot = hook_bot
    """An event we do not know is kept for /streamops events but queues nothing."""
    response = await post_webhook(bot, "streampixel", streampixel("build.archived"))
    assert response.status_code == 202
    assert response.json()["result"] == "ignored"
    assert await counts(bot.container.db) == (1, 0)
    [delivery] = await WebhookStore(bot.container.db).recent()
    assert (delivery.event, delivery.outcome) == ("build.archived", "ignored")


async def test_without_subscription_or_default_channel_the_delivery_is_unrouted(database) -> None:
    """No subscription and no default channel: the delivery is stored as unrouted, no row queued."""
    async with quiet_bot(database, STREAMOPS_DEFAULT_CHANNEL=None) as bot:
        response = await post_webhook(bot, "streampixel", streampixel("build.uploaded"))
        assert response.status_code == 200
        assert response.json()["result"] == "unrouted"
        assert await counts(bot.container.db) == (1, 0)


async def test_streamstack_signature_is_required_when_a_secret_is_configured(database) -> None:
    """With a secret, unsigned or wrongly signed bodies get 401; a correct HMAC is accepted."""
    secret = "streamstack-signing-secret"
    async with quiet_bot(database, STREAMSTACK_WEBHOOK_SECRET=secret) as bot:
        body = json.dumps(streamstack("media.uploaded")).encode()
        unsigned = await post_webhook(bot, "streamstack", body)
        forged = await post_webhook(
            bot,
            "streamstack",
            body,
            headers={"X-StreamStack-Signature": streamstack_signature(body, "other-secret")},
        )
        assert (unsigned.status_code, forged.status_code) == (401, 401)
        assert await counts(bot.container.db) == (0, 0)
        signed = await post_webhook(
            bot,
            "streamstack",
            body,
            headers={"X-StreamStack-Signature": streamstack_signature(body, secret)},
        )
        assert signed.status_code == 200
        assert await counts(bot.container.db) == (1, 1)
        assert secret not in signed.text


async def test_streamstack_without_secret_accepts_unsigned_bodies(hook_bot) -> None:
    bot = hook_bot
    """With no secret configured, the path token alone authenticates StreamStack."""
    response = await post_webhook(bot, "streamstack", streamstack("media.uploaded"))
    assert response.status_code == 200
    assert await counts(bot.container.db) == (1, 1)
