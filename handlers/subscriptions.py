"""``/streamops subscribe|unsubscribe|subscriptions|events``: thin listeners (admins)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.notifications.subscribe_args import UnknownEvents
from bot.services.subscriptions import UnknownProject
from handlers.blocks.subscriptions import (
    bad_arguments_text,
    deliveries_text,
    subscribed_text,
    subscriptions_text,
    unknown_events_text,
    unknown_project_text,
    unsubscribed_text,
)
from handlers.requests import actor_of_command
from handlers.router import Invocation, Routers, Subcommand

COMMAND = "/streamops"
SUBSCRIBE_USAGE = (
    "subscribe [#channel] streampixel|streamstack|streamapi [project=name|id] [events=a,b]"
)
UNSUBSCRIBE_USAGE = "unsubscribe [#channel] streampixel|streamstack|streamapi [project=name|id]"


async def subscribe(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/streamops subscribe [#channel] provider [project=name|id] [events=a,b]``."""
    usage = f"{COMMAND} {SUBSCRIBE_USAGE}"
    try:
        done = await c.subscriptions.subscribe(
            actor_of_command(inv, c.clock()), inv.args, inv.raw_text
        )
    except UnknownEvents as error:
        text = unknown_events_text(error.provider, error.unknown, error.valid, usage)
    except InvalidInput as error:
        text = bad_arguments_text(str(error), usage)
    except UnknownProject as error:
        text = unknown_project_text(error.wanted, error.projects, error.ambiguous, usage)
    else:
        text = subscribed_text(done)
    await respond(text=text, response_type="ephemeral")


async def unsubscribe(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/streamops unsubscribe [#channel] provider [project=name|id]``."""
    try:
        done = await c.subscriptions.unsubscribe(
            actor_of_command(inv, c.clock()), inv.args, inv.raw_text
        )
    except InvalidInput as error:
        text = bad_arguments_text(str(error), f"{COMMAND} {UNSUBSCRIBE_USAGE}")
    else:
        text = unsubscribed_text(done)
    await respond(text=text, response_type="ephemeral")


async def list_subscriptions(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/streamops subscriptions``."""
    found = await c.subscriptions.listing(actor_of_command(inv, c.clock()))
    text = subscriptions_text(found, c.settings.default_channel)
    await respond(text=text, response_type="ephemeral")


async def events(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/streamops events [provider]``: recent webhook deliveries and their outcome."""
    provider = inv.args[0].lower() if inv.args else None
    rows = await c.subscriptions.events(actor_of_command(inv, c.clock()), provider)
    await respond(text=deliveries_text(rows, provider), response_type="ephemeral")


SUBCOMMANDS = (
    Subcommand(
        "subscribe",
        SUBSCRIBE_USAGE,
        "send a provider's notifications to a channel (this one if none is given; admins)",
        subscribe,
        1,
        4,
    ),
    Subcommand(
        "unsubscribe",
        UNSUBSCRIBE_USAGE,
        "stop a provider's notifications in a channel (this one if none is given; admins)",
        unsubscribe,
        1,
        3,
    ),
    Subcommand(
        "subscriptions",
        "subscriptions",
        "list channel subscriptions (admins)",
        list_subscriptions,
        0,
        0,
    ),
    Subcommand(
        "events",
        "events [streampixel|streamstack]",
        "recent webhook deliveries and their outcome (admins)",
        events,
        0,
        1,
    ),
)


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add the subscription and events subcommands to ``/streamops``."""
    routers.streamops.add(*SUBCOMMANDS)
