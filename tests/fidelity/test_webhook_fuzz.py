"""Hostile webhook bodies against the real app, both databases: no 5xx, refusals write nothing.

The default run draws a few dozen bodies per route (the ``default`` hypothesis
profile); ``pytest -m slow`` runs the same property over 10,000 bodies per route.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from sqlalchemy import func
from sqlmodel import select

from storage.builds import KnownBuild
from storage.outbox import OutboxRow
from storage.timeline import ReleaseEvent
from storage.webhooks import WebhookDelivery
from tests.fidelity.webhook_bodies import bodies
from tests.harness import Bot
from tests.webhook_helpers import post_webhook, quiet_bot, streampixel, streamstack

#: The bot is shared by every example of a test (starting one per example would take seconds).
SHARED_BOT = settings(
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture]
)
THOROUGH = settings(SHARED_BOT, max_examples=10_000)


@pytest.fixture
async def hook_bot(database) -> AsyncIterator[Bot]:
    """The running bot without its own delivery worker."""
    async with quiet_bot(database) as bot:
        yield bot


async def written(bot: Bot) -> tuple[int, ...]:
    """Rows of every table a webhook writes: deliveries, outbox, known builds, release events."""
    tables = (WebhookDelivery, OutboxRow, KnownBuild, ReleaseEvent)
    query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    async with bot.container.db.session() as session:
        return tuple((await session.exec(query)).one())


async def check(bot: Bot, provider: str, body: bytes) -> None:
    """One body: a 2xx that stored it once, or a 400 with a short reason that stored nothing."""
    before = await written(bot)
    response = await post_webhook(bot, provider, body)
    after = await written(bot)
    assert response.status_code in (200, 202, 400), (response.status_code, body[:200])
    answer = response.json()
    if response.status_code == 400:
        assert after == before, body[:200]
        assert answer["ok"] is False
        assert 0 < len(answer["error"]) <= 80
    elif answer["result"] == "duplicate":
        assert after == before
    else:
        assert after[0] == before[0] + 1


def _sp(**fields: Any) -> bytes:
    return json.dumps({**streampixel("build.distributing"), **fields}).encode()


def _ss(**fields: Any) -> bytes:
    return json.dumps({**streamstack("media.failed"), **fields}).encode()


#: Bodies that got a 500 before the intake was hardened (tried on every run, with the drawn ones).
KNOWN_500S = {
    "streampixel": [
        b"[" * 5000 + b"]" * 5000,
        _sp(uploadId="\ud800"),
        _sp(status="\u0000"),
        _sp(uploadId="u" * 65),
        _sp(projectId="p" * 100),
        _sp(timestamp="9999-12-31T23:59:59-01:00"),
    ],
    "streamstack": [
        b'{"event": "media.failed", "uuid": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        _ss(uuid="\udfff"),
        _ss(event="media.\u0000"),
        _ss(uuid="v" * 129),
    ],
}


def with_known_500s(provider: str) -> Any:
    """The property test, given the bodies that once got a 500 as explicit examples."""

    def decorate(test: Any) -> Any:
        for body in KNOWN_500S[provider]:
            test = example(body=body)(test)
        return test

    return decorate


@with_known_500s("streampixel")
@SHARED_BOT
@given(body=bodies("streampixel"))
async def test_hostile_streampixel_bodies_never_get_a_5xx(hook_bot: Bot, body: bytes) -> None:
    await check(hook_bot, "streampixel", body)


@with_known_500s("streamstack")
@SHARED_BOT
@given(body=bodies("streamstack"))
async def test_hostile_streamstack_bodies_never_get_a_5xx(hook_bot: Bot, body: bytes) -> None:
    await check(hook_bot, "streamstack", body)


@pytest.mark.slow
@THOROUGH
@given(body=bodies("streampixel"))
async def test_hostile_streampixel_bodies_never_get_a_5xx_thorough(
    hook_bot: Bot, body: bytes
) -> None:
    await check(hook_bot, "streampixel", body)


@pytest.mark.slow
@THOROUGH
@given(body=bodies("streamstack"))
async def test_hostile_streamstack_bodies_never_get_a_5xx_thorough(
    hook_bot: Bot, body: bytes
) -> None:
    await check(hook_bot, "streamstack", body)
