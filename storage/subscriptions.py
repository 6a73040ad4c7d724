"""Channel subscriptions: which provider events go to which Slack channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import UniqueConstraint, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    provider: str = Field(max_length=16)
    project: str = Field(default="", max_length=128)
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
    rows = await session.exec(
        select(Subscription).where(Subscription.provider == provider).order_by(Subscription.id)  # type: ignore[arg-type]  # a column
    )
    return channels_from(rows.all(), provider, project, event)


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
