"""Channel subscriptions: which provider events go to which Slack channel."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, delete
from sqlalchemy import select as sa_select
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import lengths
from storage.db import Database
from storage.timeutil import UTCDateTime


class Subscription(SQLModel, table=True):
    """``channel`` receives ``provider`` notifications, optionally narrowed.

    ``project`` is ``""`` for every project; ``events`` is a comma-separated
    list of event names (``build.approved`` or just ``approved``), ``""`` for all.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("channel", "provider", "project", name="uq_subscriptions_target"),
        # Routing reads only the (provider, project) pairs of an event (migration 0010b).
        Index("ix_subscriptions_route", "provider", "project"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    provider: str = Field(max_length=lengths.PROVIDER)
    project: str = Field(default="", max_length=lengths.WEBHOOK_PROJECT)
    events: str = Field(default="", max_length=500)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)

    def event_list(self) -> list[str]:
        """The event filter as a list (empty: every event)."""
        return [e for e in self.events.split(",") if e]

    def matches(self, provider: str, project: str | None, event: str) -> bool:
        """True when a ``provider`` event about ``project`` should go to this channel."""
        if provider != self.provider:
            return False
        if self.project and self.project != project:
            return False
        wanted = self.event_list()
        return not wanted or any(event == e or event.endswith("." + e) for e in wanted)


async def channels_for(
    session: AsyncSession, provider: str, project: str | None, event: str
) -> list[str]:
    """The channels subscribed to this event, in subscription order, each once."""
    routes = await routes_for(session, [(provider, project)])
    return routes.channels(provider, project, event)


@dataclass(frozen=True)
class _Route:
    order: int
    channel: str
    events: frozenset[str]  # empty: every event

    def wants(self, event: str) -> bool:
        if not self.events or event in self.events:
            return True
        dot = event.find(".")
        while dot >= 0:  # "approved" or "build.approved" for "x.build.approved"
            if event[dot + 1 :] in self.events:
                return True
            dot = event.find(".", dot + 1)
        return False


class Routes:
    """The subscriptions that can match some (provider, project) pairs, keyed for lookup.

    Built by :func:`routes_for` from an index read of just those pairs, so the
    cost of routing an event grows with the subscriptions that could match it,
    not with every subscription of the provider. Matching is the same as
    :meth:`Subscription.matches`: same provider, the project or every project
    (``""``), and the event named in full or by its last part.
    """

    def __init__(self, rows: Iterable[tuple[int, str, str, str, str]]) -> None:
        self._by_key: dict[tuple[str, str], list[_Route]] = {}
        for order, channel, provider, project, events in rows:
            route = _Route(order, channel, frozenset(e for e in events.split(",") if e))
            self._by_key.setdefault((provider, project), []).append(route)

    def deliver_to(
        self, provider: str, project: str | None, event: str, default_channel: str | None
    ) -> list[str]:
        """The one routing rule: the subscribed channels, else the default channel (if set)."""
        channels = self.channels(provider, project, event)
        if not channels and default_channel:
            return [default_channel]
        return channels

    def channels(self, provider: str, project: str | None, event: str) -> list[str]:
        """The channels that want this event, in subscription order, each once."""
        candidates = list(self._by_key.get((provider, ""), ()))
        if project:
            candidates += self._by_key.get((provider, project), ())
        candidates.sort(key=lambda route: route.order)
        channels: list[str] = []
        for route in candidates:
            if route.channel not in channels and route.wants(event):
                channels.append(route.channel)
        return channels


async def routes_for(session: AsyncSession, pairs: Iterable[tuple[str, str | None]]) -> Routes:
    """The routes for events of these (provider, project) pairs, read through the index."""
    providers = {provider for provider, _ in pairs}
    projects = {project for _, project in pairs if project} | {""}
    if not providers:
        return Routes(())
    table = Subscription.__table__  # type: ignore[attr-defined]  # SQLModel table
    statement = sa_select(
        table.c.id, table.c.channel, table.c.provider, table.c.project, table.c.events
    ).where(table.c.provider.in_(providers), table.c.project.in_(projects))
    connection = await session.connection()
    rows = (await connection.execute(statement)).all()
    return Routes((int(r[0]), r[1], r[2], r[3], r[4]) for r in rows)


def channels_from(
    subscriptions: Iterable[Subscription], provider: str, project: str | None, event: str
) -> list[str]:
    """The channels among ``subscriptions`` (in order) that want this event, each once."""
    channels: list[str] = []
    for sub in subscriptions:
        if sub.matches(provider, project, event) and sub.channel not in channels:
            channels.append(sub.channel)
    return channels


class SubscriptionStore:
    """Adds, removes and lists subscriptions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def subscribe(
        self,
        channel: str,
        provider: str,
        *,
        project: str = "",
        events: tuple[str, ...] = (),
        created_by: str,
        now: datetime,
    ) -> bool:
        """Add or replace the subscription of ``channel`` to ``provider``/``project``.

        Returns True when it is new, False when an existing one was replaced.
        """
        async with self.db.session() as session:
            existing = (
                await session.exec(
                    select(Subscription).where(
                        Subscription.channel == channel,
                        Subscription.provider == provider,
                        Subscription.project == project,
                    )
                )
            ).first()
            if existing is not None:
                existing.events = ",".join(events)
                existing.created_by = created_by
                existing.created_at = now
                session.add(existing)
                return False
            session.add(
                Subscription(
                    channel=channel,
                    provider=provider,
                    project=project,
                    events=",".join(events),
                    created_by=created_by,
                    created_at=now,
                )
            )
            return True

    async def unsubscribe(self, channel: str, provider: str, *, project: str | None = None) -> int:
        """Remove ``channel``'s subscriptions to ``provider`` (one project, or all); the count."""
        statement = delete(Subscription).where(
            col(Subscription.channel) == channel,
            col(Subscription.provider) == provider,
        )
        if project is not None:
            statement = statement.where(col(Subscription.project) == project)
        async with self.db.session() as session:
            result = await session.exec(statement)
            return int(result.rowcount)

    async def all(self) -> list[Subscription]:
        """Every subscription, by channel then provider then project."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(Subscription).order_by(
                    col(Subscription.channel),
                    col(Subscription.provider),
                    col(Subscription.project),
                )
            )
            return list(rows.all())
