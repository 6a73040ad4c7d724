"""``/streamops subscribe|unsubscribe|subscriptions|events`` over the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.notifications.types import BUILD_EVENTS, LIVE_EVENTS, MEDIA_EVENTS, WEBHOOK_TEST
from bot.sandbox.streampixel_state import DEMO_USER_ID
from storage.subscriptions import Subscription, SubscriptionStore
from tests.handlers.build_env import build_env
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


@pytest.fixture
async def pixel_bot(database) -> AsyncIterator[Bot]:
    """The running bot with Streampixel's API configured (the demo simulator behind it)."""
    async with build_env(database, STREAMOPS_DELIVERY_WORKER=False) as env:
        env.sim.add_project(DEMO_USER_ID, "<!channel> & Co", project_id="664f00000000000000000aaa")
        env.sim.add_project(DEMO_USER_ID, "Showcase", project_id="664f00000000000000000bbb")
        yield env.bot


async def _stored(bot: Bot) -> list[tuple[str, str, str, str]]:
    subs: list[Subscription] = await SubscriptionStore(bot.container.db).all()
    return [(s.channel, s.provider, s.project, s.events) for s in subs]


async def _say(bot: Bot, text: str, user_id: str = ADMIN, channel_id: str = "C0CHANNEL1") -> str:
    before = len(bot.slack.calls_to("response_url"))
    response = await bot.command("/streamops", text, user_id=user_id, channel_id=channel_id)
    assert response.status_code == 200  # the answer: in the ack, or posted later
    await bot.slack.wait_for(lambda s: len(s.calls_to("response_url")) > before)
    return str(bot.slack.calls_to("response_url")[-1]["text"])


async def test_subscribe_routes_matching_events_and_is_audited(hook_bot) -> None:
    bot = hook_bot
    """A subscription narrowed to one project's approvals gets those; the rest go to the default."""
    answer = await _say(
        bot, f"subscribe <#C0BUILDS|builds> streampixel project={PROJECT} events=approved"
    )
    assert "Subscribed <#C0BUILDS> to streampixel" in answer
    assert "not checked: Streampixel's API is not configured" in answer  # no project list here
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


# -- refusing what can never match (issue 15, item 9) ---------------------------------------


async def test_an_unknown_event_name_is_refused_with_the_providers_event_names(hook_bot) -> None:
    """`events=aproved` is answered with the usage line and every event the provider sends."""
    bot = hook_bot
    answer = await _say(bot, "subscribe <#C0BUILDS|builds> streampixel events=approved,aproved")
    assert "`aproved`" in answer and "could never match" in answer
    assert all(f"`{event}`" in answer for event in (*BUILD_EVENTS, WEBHOOK_TEST))
    assert "Usage: `/streamops subscribe [#channel]" in answer
    media = await _say(bot, "subscribe C0MEDIA streamstack events=approved")
    assert all(f"`{event}`" in media for event in MEDIA_EVENTS)
    assert "`build.approved`" not in media
    assert await _stored(bot) == []
    assert bot.container.audit.events == []  # nothing changed, nothing recorded


async def test_event_names_in_full_or_by_their_last_part_are_accepted(hook_bot) -> None:
    """Full names and the part after the dot both pass; they are stored as typed."""
    bot = hook_bot
    answer = await _say(bot, "subscribe C0LIVE streamapi events=live.started,ended")
    assert "Subscribed <#C0LIVE> to streamapi: `live.started`, `ended`." in answer
    assert await _stored(bot) == [("C0LIVE", "streamapi", "", "live.started,ended")]
    refused = await _say(bot, "subscribe C0X streamapi events=x")
    assert all(f"`{e}`" in refused for e in LIVE_EVENTS)


async def test_no_channel_means_the_channel_the_command_was_typed_in(hook_bot) -> None:
    """Without a channel the current one is subscribed (and unsubscribed); a DM is refused."""
    bot = hook_bot
    answer = await _say(bot, "subscribe streamstack events=failed", channel_id="C0HERE")
    assert "Subscribed <#C0HERE> to streamstack: `failed`." in answer
    assert await _stored(bot) == [("C0HERE", "streamstack", "", "failed")]
    assert "give a channel" in await _say(bot, "subscribe streamstack", channel_id="D0DIRECT")
    assert "unknown provider" in await _say(bot, "subscribe vimeo", channel_id="C0HERE")
    removed = await _say(bot, "unsubscribe streamstack", channel_id="C0HERE")
    assert "Removed 1 subscription(s) of <#C0HERE>" in removed
    assert await _stored(bot) == []


async def test_a_project_is_taken_by_name_and_stored_by_id(pixel_bot) -> None:
    """A project name resolves through the project list; its builds reach the channel."""
    bot = pixel_bot
    answer = await _say(
        bot, 'subscribe <#C0BUILDS|builds> streampixel project="showroom demo" events=approved'
    )
    assert f"project *Showroom Demo* (`{PROJECT}`): `approved`." in answer
    assert await _stored(bot) == [("C0BUILDS", "streampixel", PROJECT, "approved")]
    async with running_worker(bot):
        await post_webhook(bot, "streampixel", streampixel("build.approved", minute=2))
        await drained(bot.container.db)
    [approved] = bot.slack.channel_messages("C0BUILDS")
    assert "Approved" in approved.text
    # The id works too, and unsubscribing by name removes it.
    assert "Updated the subscription" in await _say(
        bot, f"subscribe C0BUILDS streampixel project={PROJECT}"
    )
    removed = await _say(bot, 'unsubscribe C0BUILDS streampixel project="Showroom Demo"')
    assert "Removed 1 subscription" in removed


async def test_an_unknown_project_is_answered_with_every_project_escaped(pixel_bot) -> None:
    """An unknown project lists the account's projects (names escaped, ids); nothing is stored."""
    bot = pixel_bot
    answer = await _say(bot, "subscribe C0BUILDS streampixel project=<!here>")
    assert "No Streampixel project is called or has the id `&lt;!here&gt;`" in answer
    assert f"• *Showroom Demo* `{PROJECT}`" in answer
    assert "• *&lt;!channel&gt; &amp; Co* `664f00000000000000000aaa`" in answer
    assert "Partner Gallery" not in answer  # another account's project
    assert "<!channel>" not in answer and "<!here>" not in answer
    assert "Usage: `/streamops subscribe" in answer
    several = await _say(bot, "subscribe C0BUILDS streampixel project=show")
    assert "`show` matches several Streampixel projects" in several
    assert "*Showcase*" in several and "*Showroom Demo*" in several
    assert "Retail Walkthrough" not in several
    assert await _stored(bot) == []


async def test_project_on_a_provider_without_projects_is_refused(hook_bot) -> None:
    """StreamStack and StreamAPI notifications carry no project: project= could never match."""
    bot = hook_bot
    for provider in ("streamstack", "streamapi"):
        answer = await _say(bot, f"subscribe C0X {provider} project=anything")
        assert f"{provider} notifications carry no project" in answer
    assert await _stored(bot) == []


async def test_refusals_quote_the_users_words_escaped_with_the_usage_line(hook_bot) -> None:
    """A bad argument is named back escaped (no `<!channel>` markup) above the usage line."""
    bot = hook_bot
    for text in ("subscribe <!channel> streampixel", "unsubscribe <#C0X|x> <!channel>"):
        answer = await _say(bot, text)
        assert "unknown provider '&lt;!channel&gt;'" in answer
        assert "<!channel>" not in answer
        assert f"Usage: `/streamops {text.split()[0]} [#channel]" in answer
    assert await _stored(bot) == []
