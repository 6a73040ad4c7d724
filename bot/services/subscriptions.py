"""``/streamops subscribe|unsubscribe|subscriptions|events``: where notifications go (admins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.errors import InvalidInput
from bot.notifications.subscribe_args import PROVIDERS, SubscribeArgs, parse_subscribe
from bot.services.actor import Actor, AuditTrail, Gate, Target
from storage.subscriptions import Subscription, SubscriptionStore
from storage.webhooks import WebhookDelivery, WebhookStore

#: The audit action of every subscription change.
ACTION = "subscription.change"


@dataclass(frozen=True)
class Subscribed:
    """A subscription made or updated."""

    args: SubscribeArgs
    new: bool


@dataclass(frozen=True)
class Unsubscribed:
    """How many subscriptions were removed (0: there was none)."""

    args: SubscribeArgs
    removed: int


class SubscriptionService:
    """Channel subscriptions and the webhook delivery log.

    Args:
        store: the subscriptions.
        deliveries: the webhook delivery log.
        gate: authorization and the audit trail.
        clock: the current time.
    """

    def __init__(
        self,
        store: SubscriptionStore,
        deliveries: WebhookStore,
        gate: Gate,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.gate = gate
        self.clock = clock

    async def _allowed(self, actor: Actor, raw_text: str) -> AuditTrail:
        trail = self.gate.trail(actor)
        target = Target(None, "channel", "", {"text": raw_text})
        await self.gate.check(trail, "subscriptions.manage", ACTION, target)
        return trail

    async def subscribe(self, actor: Actor, words: list[str], raw_text: str) -> Subscribed:
        """Send a provider's notifications (a project's, some events) to a channel."""
        trail = await self._allowed(actor, raw_text)
        args = parse_subscribe(words)
        new = await self.store.subscribe(
            args.channel,
            args.provider,
            project=args.project or "",
            events=args.events,
            created_by=actor.user_id,
            now=self.clock(),
        )
        params: dict[str, object] = {"project": args.project or "", "events": list(args.events)}
        verb = "subscribed" if new else "updated the subscription of"
        target = Target(args.provider, "channel", args.channel, params)
        await trail.record(ACTION, "ok", target, f"subscribe ({verb})")
        return Subscribed(args, new)

    async def unsubscribe(self, actor: Actor, words: list[str], raw_text: str) -> Unsubscribed:
        """Stop a provider's notifications in a channel (one project, or all)."""
        trail = await self._allowed(actor, raw_text)
        args = parse_subscribe(words, allow_events=False)
        removed = await self.store.unsubscribe(args.channel, args.provider, project=args.project)
        if removed:
            params = {"project": args.project or "*", "removed": removed}
            target = Target(args.provider, "channel", args.channel, params)
            await trail.record(ACTION, "ok", target, "unsubscribe")
        return Unsubscribed(args, removed)

    async def listing(self, actor: Actor) -> list[Subscription]:
        """Every subscription (admins only)."""
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "subscriptions.manage", ACTION, Target(), record=False)
        return await self.store.all()

    async def events(self, actor: Actor, provider: str | None) -> list[WebhookDelivery]:
        """The latest webhook deliveries (of ``provider``) and their outcome (admins only)."""
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "events.view", "events.view", Target(), record=False)
        if provider is not None and provider not in PROVIDERS:
            raise InvalidInput(f"unknown provider '{provider}'")
        return await self.deliveries.recent(provider=provider, limit=20)
