"""Received webhooks (deduplicated) and the Slack message kept per build or video.

:meth:`WebhookStore.record` is the intake transaction: the delivery row
(unique ``dedupe_key``) and its outbox rows are written together, or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Text, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import lengths
from storage.db import Database, Write
from storage.group_commit import GroupCommitter
from storage.notifications import Notice
from storage.outbox import OutboxRow, OutboxStore
from storage.subscriptions import routes_for
from storage.timeutil import UTCDateTime

QUEUED = "queued"
IGNORED = "ignored"
UNROUTED = "unrouted"
POSTED = "posted"
FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One webhook as received (stored once per ``dedupe_key``).

    ``outcome``: ``queued`` (notifications waiting), ``posted``, ``failed``,
    ``ignored`` (an event we do not post) or ``unrouted`` (no channel).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_provider_received", "provider", "received_at"),
        Index("ix_webhook_deliveries_subject", "provider", "subject", "event"),
        Index("ix_webhook_deliveries_received", "received_at"),  # retention (0013)
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=lengths.PROVIDER)
    event: str = Field(max_length=lengths.EVENT)
    subject: str | None = Field(default=None, max_length=lengths.WEBHOOK_SUBJECT)
    project: str | None = Field(default=None, max_length=lengths.WEBHOOK_PROJECT)
    dedupe_key: str = Field(max_length=64, unique=True)
    payload: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=16)


class NotificationMessage(SQLModel, table=True):
    """The Slack message of one build or video in one channel, and what it shows."""

    __tablename__ = "notification_messages"

    channel: str = Field(primary_key=True, max_length=32)
    subject_key: str = Field(primary_key=True, max_length=lengths.SUBJECT_KEY)
    ts: str = Field(max_length=32)
    state: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class Intake:
    """A parsed webhook ready to be stored.

    Attributes:
        notification: what the outbox rows carry; None for events we do not post.
        subject_key: groups notifications into one Slack message (``""``: standalone).
    """

    provider: str
    event: str
    subject: str | None
    project: str | None
    dedupe_key: str
    raw_payload: str
    notification: Notice | None
    subject_key: str = ""
    also: Write | tuple[Write, ...] | None = None
    """Writes that belong with a new delivery (the known-build list, the release timeline)."""

    def writes(self) -> tuple[Write, ...]:
        """:attr:`also` as a tuple."""
        if self.also is None:
            return ()
        return self.also if isinstance(self.also, tuple) else (self.also,)


@dataclass(frozen=True)
class Recorded:
    """What the intake transaction did."""

    duplicate: bool
    outcome: str
    channels: tuple[str, ...] = ()


class WebhookStore:
    """The intake transaction, the delivery log and the per-subject messages."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._delivery_insert: Any = None
        self._committer: GroupCommitter[tuple[Intake, datetime, str | None], Recorded] = (
            GroupCommitter(db, self._record_batch)
        )

    async def record(
        self, intake: Intake, now: datetime, *, default_channel: str | None
    ) -> Recorded:
        """Store the delivery and its outbox rows in one transaction.

        A delivery whose ``dedupe_key`` is already stored changes nothing. The
        notification gains ``prior_events``: the events already received about
        the same subject (how a manual release is told from an automatic one).
        Concurrent deliveries share a transaction (group commit); each returns
        only once its rows are committed.

        Args:
            intake: the parsed webhook.
            now: the receive time.
            default_channel: where notifications go when no subscription matches.
        """
        return await self._committer.submit((intake, now, default_channel))

    def _insert_delivery(self, deliveries: Any) -> Any:
        if self._delivery_insert is None:
            self._delivery_insert = (
                self.db.insert(deliveries)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(deliveries.c.id, deliveries.c.dedupe_key)
            )
        return self._delivery_insert

    async def _record_batch(
        self, session: AsyncSession, items: list[tuple[Intake, datetime, str | None]]
    ) -> list[Recorded]:
        """Store a batch of deliveries with a handful of statements, not a handful each.

        Reads the subscriptions that can match (by provider and project, through an
        index) and every earlier event of the batch's
        subjects once, inserts all deliveries in one multi-row statement (a
        repeated ``dedupe_key`` stores nothing, within the batch too), then all
        outbox rows in another.
        """
        intakes = [intake for intake, _, _ in items]
        routes = await routes_for(session, [(i.provider, i.project) for i in intakes])
        subjects = {i.subject for i in intakes if i.subject is not None}
        prior: dict[tuple[str, str], set[str]] = {}
        if subjects:
            rows = await session.exec(
                select(
                    WebhookDelivery.provider, WebhookDelivery.subject, WebhookDelivery.event
                ).where(col(WebhookDelivery.subject).in_(subjects))
            )
            for provider, subject, event in rows.all():
                prior.setdefault((provider, subject or ""), set()).add(event)

        plans: list[tuple[str, list[str]]] = []
        values: list[dict[str, Any]] = []
        first_of_key: dict[str, int] = {}
        for index, (intake, now, default_channel) in enumerate(items):
            channels: list[str] = []
            if intake.notification is not None:
                channels = routes.deliver_to(
                    intake.provider, intake.project, intake.event, default_channel
                )
            outcome = IGNORED if intake.notification is None else (QUEUED if channels else UNROUTED)
            plans.append((outcome, channels))
            if intake.dedupe_key in first_of_key:
                continue
            first_of_key[intake.dedupe_key] = index
            values.append(
                {
                    "provider": intake.provider,
                    "event": intake.event,
                    "subject": intake.subject,
                    "project": intake.project,
                    "dedupe_key": intake.dedupe_key,
                    "payload": intake.raw_payload,
                    "received_at": now,
                    "outcome": outcome,
                }
            )
        # Core statements on the session's connection: the ORM's bulk path costs
        # more than the rows.
        connection = await session.connection()
        deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]  # SQLModel table
        inserted = await connection.execute(
            self._insert_delivery(deliveries),
            values,  # executemany: compiled once
        )
        ids = {key: delivery_id for delivery_id, key in inserted.all()}

        results: list[Recorded] = []
        outbox: list[dict[str, Any]] = []
        also: dict[int, list[Write]] = {}
        for index, (intake, now, _) in enumerate(items):
            outcome, channels = plans[index]
            delivery_id = ids.get(intake.dedupe_key)
            if delivery_id is None or first_of_key[intake.dedupe_key] != index:
                results.append(Recorded(duplicate=True, outcome="duplicate"))
                continue
            earlier: list[str] = []
            if intake.subject is not None:
                seen = prior.setdefault((intake.provider, intake.subject), set())
                earlier = sorted(seen)
                seen.add(intake.event)
            for write in intake.writes():
                also.setdefault(id(write.statement), []).append(write)
            if intake.notification is None:
                results.append(Recorded(duplicate=False, outcome=outcome))
                continue
            notice = replace(intake.notification, prior_events=tuple(earlier))
            payload = json.dumps(notice.to_payload(), sort_keys=True)
            outbox.extend(
                OutboxStore.row_values(
                    channel, payload, now, subject_key=intake.subject_key, delivery_id=delivery_id
                )
                for channel in channels
            )
            results.append(Recorded(duplicate=False, outcome=outcome, channels=tuple(channels)))
        for writes in also.values():  # in arrival order, one executemany per statement
            await connection.execute(writes[0].statement, [w.params for w in writes])
        if outbox:
            # executemany of one cached statement
            await connection.execute(insert(OutboxRow.__table__), outbox)  # type: ignore[attr-defined]  # SQLModel table
        return results

    async def recent(
        self, *, provider: str | None = None, limit: int = 20
    ) -> list[WebhookDelivery]:
        """The latest deliveries (of ``provider``), newest first."""
        query = select(WebhookDelivery).order_by(col(WebhookDelivery.id).desc()).limit(limit)
        if provider is not None:
            query = query.where(WebhookDelivery.provider == provider)
        async with self.db.session() as session:
            return list((await session.exec(query)).all())

    async def message(self, channel: str, subject_key: str) -> NotificationMessage | None:
        """The Slack message of ``subject_key`` in ``channel``, if one was posted."""
        async with self.db.session() as session:
            return await session.get(NotificationMessage, (channel, subject_key))

    async def message_ts(self, channel: str, subject_keys: list[str]) -> dict[str, str]:
        """The ``ts`` of each of ``subject_keys`` that has a message in ``channel``."""
        if not subject_keys:
            return {}
        query = select(NotificationMessage.subject_key, NotificationMessage.ts).where(
            NotificationMessage.channel == channel,
            col(NotificationMessage.subject_key).in_(subject_keys),
        )
        async with self.db.read() as conn:  # no write lock on SQLite
            return {str(key): str(ts) for key, ts in (await conn.execute(query)).all()}

    async def save_message(
        self, channel: str, subject_key: str, ts: str, state: str, now: datetime
    ) -> None:
        """Remember (or update) the message of ``subject_key`` in ``channel``."""
        async with self.db.session() as session:
            await self.save_message_in(session, channel, subject_key, ts, state, now)

    @staticmethod
    async def save_message_in(
        session: AsyncSession, channel: str, subject_key: str, ts: str, state: str, now: datetime
    ) -> None:
        """:meth:`save_message` inside the caller's transaction."""
        row = await session.get(NotificationMessage, (channel, subject_key))
        if row is None:
            row = NotificationMessage(
                channel=channel, subject_key=subject_key, ts=ts, state=state, updated_at=now
            )
        else:
            row.ts, row.state, row.updated_at = ts, state, now
        session.add(row)
