"""``/streamops subscribe|unsubscribe|subscriptions|events``: where notifications go (admins)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.notifications.subscribe_args import PROVIDERS, parse_subscribe
from bot.services.actor import AuditTrail, Target, authorize
from handlers.blocks.subscriptions import deliveries_text, subscriptions_text
from handlers.requests import actor_of_command
from handlers.router import Invocation, Routers
from storage.subscriptions import SubscriptionStore
from storage.webhooks import WebhookStore

#: The audit action of every subscription change.
ACTION = "subscription.change"


def register(app: AsyncApp, deps: Container, routers: Routers) -> None:
    """Add the subscription and events subcommands to ``/streamops``."""
    subs = SubscriptionStore(deps.db)
    deliveries = WebhookStore(deps.db)
    router = routers.streamops

    async def allowed_trail(inv: Invocation) -> AuditTrail:
        """The actor's audit trail, once they may manage subscriptions (refusals audited)."""
        trail = AuditTrail(deps.audit, actor_of_command(inv, deps.clock()), deps.clock)
        target = Target(None, "channel", "", {"text": inv.raw_text})
        await authorize(deps.authz, trail, "subscriptions.manage", ACTION, target)
        return trail

    @router.sub(
        "subscribe",
        "subscribe #channel streampixel|streamstack|streamapi [project=…] [events=a,b]",
        "send a provider's notifications to a channel (admins)",
        min_args=2,
        max_args=4,
    )
    async def subscribe(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        trail = await allowed_trail(inv)
        args = parse_subscribe(inv.args)
        new = await subs.subscribe(
            args.channel,
            args.provider,
            project=args.project or "",
            events=args.events,
            created_by=inv.user_id,
            now=deps.clock(),
        )
        params: dict[str, object] = {"project": args.project or "", "events": list(args.events)}
        verb = "subscribed" if new else "updated the subscription of"
        target = Target(args.provider, "channel", args.channel, params)
        await trail.record(ACTION, "ok", target, f"subscribe ({verb})")
        scope = f" project `{args.project}`" if args.project else ""
        events = ", ".join(args.events) if args.events else "all events"
        await respond(
            text=f":white_check_mark: {verb.capitalize()} <#{args.channel}> to "
            f"{args.provider}{scope}: {events}.",
            response_type="ephemeral",
        )

    @router.sub(
        "unsubscribe",
        "unsubscribe #channel streampixel|streamstack|streamapi [project=…]",
        "stop a provider's notifications in a channel (admins)",
        min_args=2,
        max_args=3,
    )
    async def unsubscribe(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        trail = await allowed_trail(inv)
        args = parse_subscribe(inv.args, allow_events=False)
        removed = await subs.unsubscribe(args.channel, args.provider, project=args.project)
        if not removed:
            await respond(
                text=f"<#{args.channel}> had no {args.provider} subscription to remove.",
                response_type="ephemeral",
            )
            return
        params = {"project": args.project or "*", "removed": removed}
        target = Target(args.provider, "channel", args.channel, params)
        await trail.record(ACTION, "ok", target, "unsubscribe")
        await respond(
            text=f":white_check_mark: Removed {removed} subscription(s) of <#{args.channel}> "
            f"to {args.provider}.",
            response_type="ephemeral",
        )

    @router.sub("subscriptions", "subscriptions", "list channel subscriptions (admins)", max_args=0)
    async def list_subscriptions(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        await deps.authz.require(inv.user_id, "subscriptions.manage")
        text = subscriptions_text(await subs.all(), deps.settings.default_channel)
        await respond(text=text, response_type="ephemeral")

    @router.sub(
        "events",
        "events [streampixel|streamstack]",
        "recent webhook deliveries and their outcome (admins)",
        max_args=1,
    )
    async def events(
        inv: Invocation, _c: Container, respond: AsyncRespond, _: AsyncWebClient
    ) -> None:
        await deps.authz.require(inv.user_id, "events.view")
        provider = inv.args[0].lower() if inv.args else None
        if provider is not None and provider not in PROVIDERS:
            raise InvalidInput(f"unknown provider '{inv.args[0]}'")
        rows = await deliveries.recent(provider=provider, limit=20)
        await respond(text=deliveries_text(rows, provider), response_type="ephemeral")
