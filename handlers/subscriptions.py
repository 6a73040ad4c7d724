"""``/streamops subscribe|unsubscribe|subscriptions|events``: thin listeners (admins)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from handlers.blocks.subscriptions import deliveries_text, subscriptions_text
from handlers.requests import actor_of_command
from handlers.router import Invocation, Routers, Subcommand


async def subscribe(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/streamops subscribe #channel provider [project=…] [events=a,b]``."""
    done = await c.subscriptions.subscribe(actor_of_command(inv, c.clock()), inv.args, inv.raw_text)
    args = done.args
    verb = "subscribed" if done.new else "updated the subscription of"
    scope = f" project `{args.project}`" if args.project else ""
    events = ", ".join(args.events) if args.events else "all events"
    await respond(
        text=f":white_check_mark: {verb.capitalize()} <#{args.channel}> to "
        f"{args.provider}{scope}: {events}.",
        response_type="ephemeral",
    )


async def unsubscribe(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/streamops unsubscribe #channel provider [project=…]``."""
    done = await c.subscriptions.unsubscribe(
        actor_of_command(inv, c.clock()), inv.args, inv.raw_text
    )
    args = done.args
    if not done.removed:
        text = f"<#{args.channel}> had no {args.provider} subscription to remove."
    else:
        text = (
            f":white_check_mark: Removed {done.removed} subscription(s) of <#{args.channel}> "
            f"to {args.provider}."
        )
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
        "subscribe #channel streampixel|streamstack|streamapi [project=…] [events=a,b]",
        "send a provider's notifications to a channel (admins)",
        subscribe,
        2,
        4,
    ),
    Subcommand(
        "unsubscribe",
        "unsubscribe #channel streampixel|streamstack|streamapi [project=…]",
        "stop a provider's notifications in a channel (admins)",
        unsubscribe,
        2,
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
