"""``/streamops subscribe|unsubscribe|subscriptions|events``: where notifications go (admins)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.errors import InvalidInput, NotFound, ProviderError
from bot.mrkdwn import esc
from bot.notifications.subscribe_args import PROVIDERS, SubscribeArgs, parse_subscribe
from bot.providers.streampixel import Project
from bot.services.actor import Actor, AuditTrail, Gate, Target
from bot.services.builds import project_candidates
from storage.subscriptions import Subscription, SubscriptionStore
from storage.webhooks import WebhookDelivery, WebhookStore

#: The audit action of every subscription change.
ACTION = "subscription.change"
#: Reads Streampixel's project list (None: Streampixel's API is not configured).
ProjectLister = Callable[[], Awaitable[list[Project]]]


class UnknownProject(NotFound):
    """``project=`` names no single Streampixel project; the valid ones are attached.

    The message names no user or provider text (render :attr:`wanted` and
    :attr:`projects` escaped).

    Attributes:
        wanted: the project as typed.
        projects: what to offer instead: the matching projects if several match,
            else every project.
        ambiguous: several projects match ``wanted``.
    """

    def __init__(self, wanted: str, projects: list[Project], *, ambiguous: bool) -> None:
        super().__init__(
            "several Streampixel projects match that name"
            if ambiguous
            else "no Streampixel project has that name or id"
        )
        self.wanted = wanted
        self.projects = projects
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Subscribed:
    """A subscription made or updated.

    Attributes:
        args: what was stored (``args.project`` is the project id).
        new: a new subscription, not an update of one.
        project: the Streampixel project it is narrowed to, if it was looked up.
        unchecked: a project id stored as given (Streampixel's API is not configured).
    """

    args: SubscribeArgs
    new: bool
    project: Project | None = None
    unchecked: bool = False


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
        projects: Streampixel's project list, to resolve ``project=`` (None when
            Streampixel's API is not configured: a project is then stored as given).
    """

    def __init__(
        self,
        store: SubscriptionStore,
        deliveries: WebhookStore,
        gate: Gate,
        clock: Callable[[], datetime],
        projects: ProjectLister | None = None,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.gate = gate
        self.clock = clock
        self.projects = projects

    async def _allowed(self, actor: Actor, raw_text: str) -> AuditTrail:
        trail = self.gate.trail(actor)
        target = Target(None, "channel", "", {"text": raw_text})
        await self.gate.check(trail, "subscriptions.manage", ACTION, target)
        return trail

    async def _resolve(self, wanted: str) -> Project | None:
        """The Streampixel project ``wanted`` names (None: no project list to check against).

        Raises:
            UnknownProject: none or several match.
            ProviderError: Streampixel could not list the projects.
        """
        if self.projects is None:
            return None
        projects = await self.projects()
        found = project_candidates(projects, wanted)
        if len(found) == 1:
            return found[0]
        ambiguous = len(found) > 1
        raise UnknownProject(wanted, found if ambiguous else projects, ambiguous=ambiguous)

    async def subscribe(self, actor: Actor, words: list[str], raw_text: str) -> Subscribed:
        """Send a provider's notifications (a project's, some events) to a channel.

        The channel defaults to the one the command came from; ``project=`` takes a
        Streampixel project's name or id and is stored as its id.

        Raises:
            InvalidInput: a bad argument; ``UnknownEvents`` for event names the
                provider never sends.
            UnknownProject: ``project=`` names no single Streampixel project.
        """
        trail = await self._allowed(actor, raw_text)
        args = parse_subscribe(words, current_channel=actor.channel_id)
        project = await self._resolve(args.project) if args.project else None
        if project is not None:
            args = replace(args, project=project.id)
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
        unchecked = args.project is not None and project is None
        return Subscribed(args, new, project, unchecked)

    async def unsubscribe(self, actor: Actor, words: list[str], raw_text: str) -> Unsubscribed:
        """Stop a provider's notifications in a channel (one project, or all).

        ``project=`` may name the project; a value that names no current project is
        taken as the stored id (a deleted project's subscription can still be removed).
        """
        trail = await self._allowed(actor, raw_text)
        args = parse_subscribe(words, current_channel=actor.channel_id, allow_events=False)
        if args.project:
            try:
                project = await self._resolve(args.project)
            except (UnknownProject, ProviderError):
                project = None
            if project is not None:
                args = replace(args, project=project.id)
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
            raise InvalidInput(f"unknown provider '{esc(provider)}'")
        return await self.deliveries.recent(provider=provider, limit=20)
