"""``/streamops subscribe|unsubscribe|subscriptions|events``: where notifications go (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent
from bot.deps import Deps
from bot.errors import InvalidInput, NotAuthorized
from bot.notifications.subscribe_args import PROVIDERS, parse_subscribe
from handlers.blocks.subscriptions import deliveries_text, subscriptions_text
from handlers.router import Invocation
from storage.subscriptions import SubscriptionStore
from storage.webhooks import WebhookStore

if TYPE_CHECKING:
    from handlers import Routers


def register(app: AsyncApp, deps: Deps, routers: Routers) -> None:
    """Add the subscription and events subcommands to ``/streamops``."""
    subs = SubscriptionStore(deps.db)
    deliveries = WebhookStore(deps.db)
    router = routers.streamops

    async def audit(
        inv: Invocation,
        outcome: str,
        provider: str | None,
        target: str,
        message: str,
        params: dict[str, object],
    ) -> None:
        await deps.audit.record(
            AuditEvent(
                action="subscription.change",
                outcome=outcome,  # type: ignore[arg-type]  # "ok" | "denied" from the callers
                actor_id=inv.user_id,
                actor_name=inv.user_name,
                source="slash_command",
                requested_at=deps.clock(),
                completed_at=deps.clock(),
                team_id=inv.team_id,
                channel_id=inv.channel_id,
                provider=provider,
                target_type="channel",
                target_id=target,
                params=params,
                message=message,
                correlation_id=inv.correlation_id,
            )
        )

    async def require_manage(inv: Invocation) -> None:
        try:
            await deps.authz.require(inv.user_id, "subscriptions.manage")
        except NotAuthorized:
            await audit(inv, "denied", None, "", "not authorized", {"text": inv.raw_text})
            raise

    @router.sub(
        "subscribe",
        "subscribe #channel streampixel|streamstack|streamapi [project=…] [events=a,b]",
        "send a provider's notifications to a channel (admins)",
        min_args=2,
        max_args=4,
    )
    async def subscribe(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        await require_manage(inv)
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
        await audit(inv, "ok", args.provider, args.channel, f"subscribe ({verb})", params)
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
    async def unsubscribe(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        await require_manage(inv)
        args = parse_subscribe(inv.args, allow_events=False)
        removed = await subs.unsubscribe(args.channel, args.provider, project=args.project)
        if not removed:
            await respond(
                text=f"<#{args.channel}> had no {args.provider} subscription to remove.",
                response_type="ephemeral",
            )
            return
        await audit(
            inv,
            "ok",
            args.provider,
            args.channel,
            "unsubscribe",
            {"project": args.project or "*", "removed": removed},
        )
        await respond(
            text=f":white_check_mark: Removed {removed} subscription(s) of <#{args.channel}> "
            f"to {args.provider}.",
            response_type="ephemeral",
        )

    @router.sub("subscriptions", "subscriptions", "list channel subscriptions (admins)", max_args=0)
    async def list_subscriptions(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        await deps.authz.require(inv.user_id, "subscriptions.manage")
        text = subscriptions_text(await subs.all(), deps.settings.default_channel)
        await respond(text=text, response_type="ephemeral")

    @router.sub(
        "events",
        "events [streampixel|streamstack]",
        "recent webhook deliveries and their outcome (admins)",
        max_args=1,
    )
    async def events(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        await deps.authz.require(inv.user_id, "events.view")
        provider = inv.args[0].lower() if inv.args else None
        if provider is not None and provider not in PROVIDERS:
            raise InvalidInput(f"unknown provider '{inv.args[0]}'")
        rows = await deliveries.recent(provider=provider, limit=20)
        await respond(text=deliveries_text(rows, provider), response_type="ephemeral")
