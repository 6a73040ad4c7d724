"""``/streamops subscribe|unsubscribe|subscriptions|events`` over the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.subscriptions import SubscriptionStore
from tests.harness import ADMIN, Bot
from tests.webhook_helpers import (
    PROJECT,
    drained,
    post_webhook,
    quiet_bot,
    running_worker,
    streampixel,
)


@pytest.fixture
async def hook_bot(database) -> AsyncIterator[Bot]:
    """The running bot without its own delivery worker."""
    async with quiet_bot(database) as bot:
        yield bot


async def _say(bot: Bot, text: str, user_id: str = ADMIN) -> str:
    before = len(bot.slack.calls_to("response_url"))
    response = await bot.command("/streamops", text, user_id=user_id)
    assert response.status_code == 200
    if response.text:
        return response.text
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) > before)
    return str(bot.slack.calls_to("response_url")[-1]["text"])


async def test_subscribe_routes_matching_events_and_is_audited(hook_bot) -> None:
    bot = hook_bot
    """A subscription narrowed to one project's approvals gets those; the rest go to the default."""
    answer = await _say(
        bot, f"subscribe <#C0BUILDS|builds> streampixel project={PROJECT} events=approved"
    )
    assert "Subscribed <#C0BUILDS> to streampixel" in answer
    [event] = bot.container.audit.events
    assert (event.action, event.outcome, event.target_id, event.provider) == (
        "subscription.change",
        "ok",
        "C0BUILDS",
        "streampixel",
    )
    async with running_worker(bot):
        await post_webhook(bot, "streampixel", streampixel("build.saving", minute=1))
        await post_webhook(bot, "streampixel", streampixel("build.approved", minute=2))
        await drained(bot.container.db)
    [approved] = bot.slack.channel_messages("C0BUILDS")
    assert "Approved" in approved.text
    [saving] = bot.slack.channel_messages("C0DEFAULT")
    assert "Saving" in saving.text


async def test_bare_channel_id_is_accepted_and_listing_and_unsubscribe_work(hook_bot) -> None:
    bot = hook_bot
    """A bare channel id subscribes; the list shows it; unsubscribe removes it."""
    await _say(bot, "subscribe C0MEDIA streamstack")
    listing = await _say(bot, "subscriptions")
    assert "<#C0MEDIA> ← streamstack" in listing
    assert "<#C0DEFAULT>" in listing
    removed = await _say(bot, "unsubscribe <#C0MEDIA> streamstack")
    assert "Removed 1 subscription" in removed
    assert await SubscriptionStore(bot.container.db).all() == []
    assert [e.outcome for e in bot.container.audit.events] == ["ok", "ok"]


async def test_non_admin_cannot_subscribe_and_the_refusal_is_audited(hook_bot) -> None:
    bot = hook_bot
    """A viewer is told they need the admin role; nothing is stored; a denied event is recorded."""
    answer = await _say(bot, "subscribe <#C0X|x> streampixel", user_id="UVIEWER1")
    assert "admin" in answer
    assert await SubscriptionStore(bot.container.db).all() == []
    assert [(e.action, e.outcome) for e in bot.container.audit.events] == [
        ("subscription.change", "denied")
    ]


async def test_unresolvable_channel_and_provider_are_explained(hook_bot) -> None:
    bot = hook_bot
    """A plain #name and an unknown provider are refused with the reason."""
    assert "is not a channel" in await _say(bot, "subscribe #builds streampixel")
    assert "unknown provider" in await _say(bot, "subscribe <#C0X|x> vimeo")
    assert "unknown option" in await _say(bot, "subscribe <#C0X|x> streampixel colour=red")


async def test_events_lists_recent_deliveries_with_outcomes_for_admins(hook_bot) -> None:
    bot = hook_bot
    """/streamops events shows each delivery and outcome; a filter by provider narrows it."""
    await post_webhook(bot, "streampixel", streampixel("build.archived"))
    await post_webhook(bot, "streampixel", streampixel("webhook.test", upload=None))
    async with running_worker(bot):
        await drained(bot.container.db)
    text = await _say(bot, "events streampixel")
    assert "`build.archived`" in text and "ignored" in text
    assert "`webhook.test`" in text and "posted" in text
    assert "No webhook deliveries from streamstack" in await _say(bot, "events streamstack")
    assert "admin" in await _say(bot, "events", user_id="UVIEWER1")
