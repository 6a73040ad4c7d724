"""The notification outbox: rows written with each webhook, leased and delivered by workers.

A row is one notification for one channel. Workers lease the *oldest pending*
row of a channel only (so a channel's notifications go out in order and one
build's message is never posted twice by two workers), with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises the
lease. A lease that expires (the worker died) makes the row available again.

Also here: the per-channel send pacing and per-method ``Retry-After``
deadlines, shared by every replica through the database.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Table, Text, column, event, or_, table, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import lengths
from storage.coordination import SlackPacing
from storage.db import Database
from storage.notifications import Notification
from storage.outbox_groups import SUBJECT_INDEX, channel_backlog, subject_rows, undigested_rows
from storage.outbox_lease import (
    INDEX_NAME,
    INDEX_PREDICATE,
    SQLITE_HEADS_SQL,
    deliverable_heads,
)
from storage.timeutil import UTCDateTime, stored_time

PENDING = "pending"
SENT = "sent"
FAILED = "failed"

# The delivery log (storage.webhooks imports this module, so name the table here).
_deliveries = table("webhook_deliveries", column("id"), column("outcome"))


class OutboxRow(SQLModel, table=True):
    """One notification waiting for (or done with) delivery to one channel.

    ``progress`` counts the Slack calls of this row already made (see
    ``bot.jobs.outbox_worker``), so a retried row does not repeat a call that succeeded.
    ``collapsed_into``: the earlier row of the same build/video whose delivery carries this
    one too (it is finished with that row). ``digest_ts``: the channel digest message that
    already showed it (its own message still follows).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The lease's index (storage.outbox_lease, migration 0010): pending rows only.
        # PostgreSQL's copy of the predicate is added when the table is created there
        # (_pending_only_on_postgresql).
        Index(INDEX_NAME, "channel", "id", sqlite_where=text(INDEX_PREDICATE)),
        # A subject's pending rows, for collapsing them (storage.outbox_groups, 0020).
        Index(SUBJECT_INDEX, "channel", "subject_key", "id", sqlite_where=text(INDEX_PREDICATE)),
        Index("ix_outbox_status_finished", "status", "finished_at"),  # retention (0013)
        Index("ix_outbox_delivery", "delivery_id"),  # retention (0013)
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int | None = None
    channel: str = Field(max_length=32)
    subject_key: str = Field(max_length=lengths.SUBJECT_KEY)
    payload: str = Field(sa_type=Text)
    status: str = Field(default=PENDING, max_length=16)
    progress: int = 0
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    result_ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    collapsed_into: int | None = None
    digest_ts: str | None = Field(default=None, max_length=32)


#: The partial indexes over pending rows (migrations 0010 and 0020 create them on both databases).
PENDING_INDEXES = (INDEX_NAME, SUBJECT_INDEX)


@event.listens_for(OutboxRow.__table__, "before_create")  # type: ignore[attr-defined]  # SQLModel table
def _pending_only_on_postgresql(target: Table, connection: Connection, **_: Any) -> None:
    """Give the pending-row indexes their predicate on PostgreSQL too (``create_all``).

    Not ``postgresql_where=`` in ``__table_args__``: SQLAlchemy imports a dialect to
    validate an argument named after it, so every process, SQLite ones included, loaded
    the PostgreSQL dialect and its four drivers' modules (~2.2 MB resident) for it.
    Here the dialect is the connection's own, already loaded.
    """
    if connection.dialect.name != "postgresql":
        return
    for index in target.indexes:
        if index.name in PENDING_INDEXES:
            index.dialect_options["postgresql"]["where"] = text(INDEX_PREDICATE)


@dataclass(frozen=True)
class Waiting:
    """A pending row as a digest reads it."""

    id: int
    subject_key: str
    payload: str


def digest_key(channel: str) -> str:
    """The pacing key that spaces a channel's digests (``slack_pacing``)."""
    return f"digest:{channel}"


#: Work done in the same transaction as a row's progress or completion.
Also = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Lease:
    """A row leased to one worker until ``until``.

    Attributes:
        group: later pending rows of the same build/video folded into this delivery
            (``collapsed_into`` = this row), oldest first; finished with it.
        backlog: pending rows of the channel when leased (counted up to a limit).
        digest_gate: when the channel's next digest may go out (read only when the
            backlog reached the limit; None: any time).
    """

    row: OutboxRow
    owner: str
    until: datetime
    group: tuple[OutboxRow, ...] = ()
    backlog: int = 0
    digest_gate: datetime | None = None

    def rows(self) -> tuple[OutboxRow, ...]:
        """The leased row and its group, oldest first."""
        return (self.row, *self.group)


class OutboxStore:
    """Leases, progress and completion of outbox rows; pacing and Retry-After deadlines."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stored_time = stored_time(db.engine.dialect)  # for the loop's connection

    @staticmethod
    def row_values(
        channel: str,
        payload: str,
        now: datetime,
        *,
        subject_key: str = "",
        delivery_id: int | None = None,
    ) -> dict[str, Any]:
        """The values of one new outbox row: every writer of the outbox goes through here."""
        return {
            "delivery_id": delivery_id,
            "channel": channel,
            "subject_key": subject_key,
            "payload": payload,
            "status": PENDING,
            "progress": 0,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }

    async def enqueue(
        self, channel: str, notification: Notification, now: datetime, *, subject_key: str = ""
    ) -> None:
        """Queue ``notification`` for ``channel`` (a standalone message unless ``subject_key``)."""
        payload = json.dumps(notification.to_payload(), sort_keys=True)
        async with self.db.session() as session:
            session.add(
                OutboxRow(**self.row_values(channel, payload, now, subject_key=subject_key))
            )

    async def lease(
        self,
        owner: str,
        now: datetime,
        lease_for: timedelta,
        *,
        collapse: Callable[[OutboxRow], bool] | None = None,
        collapse_limit: int = 200,
        backlog_limit: int = 0,
    ) -> Lease | None:
        """Lease the next deliverable row (the oldest pending row of its channel), if any.

        A row is deliverable when it is due, not leased (or its lease has
        expired), and no older pending row exists for the same channel.
        Leasing counts an attempt. The search is ``storage.outbox_lease``:
        O(channels · log backlog), on the partial index of pending rows.

        With ``collapse`` (which rows may be folded together), the later pending
        rows of the leased row's subject in its channel join its delivery
        (``Lease.group``), in order, up to the first one ``collapse`` refuses. A row
        that already made a Slack call keeps the group it had. With
        ``backlog_limit``, the channel's pending rows are counted up to it. All in
        the lease's one transaction.
        """
        if self.db.dialect == "sqlite":
            # Most calls are the idle poll and find nothing: ask on the loop's own
            # connection first; a session (re-checking in its transaction) only if found.
            stored = self._stored_time(now)
            if not await self.db.sqlite_fetch(SQLITE_HEADS_SQL, (stored, stored, 1)):
                return None
        query = select(OutboxRow).where(
            OutboxRow.status == PENDING,
            OutboxRow.next_attempt_at <= now,
            or_(col(OutboxRow.lease_until).is_(None), col(OutboxRow.lease_until) < now),
        )
        if self.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        until = now + lease_for
        async with self.db.session() as session:
            heads = await deliverable_heads(session, now)
            if not heads:
                return None
            # Lock one of the heads (re-checked under the lock on PostgreSQL).
            query = query.where(col(OutboxRow.id).in_(heads)).order_by(col(OutboxRow.id)).limit(1)
            row = (await session.exec(query)).first()
            if row is None:
                return None
            row.lease_owner = owner
            row.lease_until = until
            row.attempts += 1
            session.add(row)
            group: tuple[OutboxRow, ...] = ()
            if collapse is not None and row.subject_key and collapse(row):
                group = await self._group(session, row, collapse, collapse_limit)
            backlog = (
                await channel_backlog(session, row.channel, backlog_limit) if backlog_limit else 0
            )
            gate = None
            if backlog_limit and backlog >= backlog_limit:
                pacing = await session.get(SlackPacing, digest_key(row.channel))
                gate = pacing.next_allowed_at if pacing is not None else None
        return Lease(
            row=row, owner=owner, until=until, group=group, backlog=backlog, digest_gate=gate
        )

    @staticmethod
    async def _group(
        session: AsyncSession, head: OutboxRow, collapse: Callable[[OutboxRow], bool], limit: int
    ) -> tuple[OutboxRow, ...]:
        """The rows folded into ``head``'s delivery (claimed now while it made no call yet)."""
        assert head.id is not None
        ids = await subject_rows(session, head.channel, head.subject_key, head.id, limit)
        if not ids:
            return ()
        query = select(OutboxRow).where(col(OutboxRow.id).in_(ids)).order_by(col(OutboxRow.id))
        rows = list((await session.exec(query)).all())
        group: list[OutboxRow] = []
        for row in rows:
            if row.collapsed_into == head.id:
                group.append(row)
                continue
            if head.progress > 0 or row.collapsed_into is not None or not collapse(row):
                break
            row.collapsed_into = head.id
            session.add(row)
            group.append(row)
        return tuple(group)

    async def advance(self, lease: Lease, progress: int, *, also: Also | None = None) -> bool:
        """Record that the first ``progress`` Slack calls of the row are done.

        Returns False when the lease was lost (another worker owns the row now).
        ``also`` runs in the same transaction (e.g. the message's new state saved).
        """
        return await self._update_owned(lease, also=also, progress=progress)

    async def complete(
        self, lease: Lease, now: datetime, result_ts: str | None, *, also: Also | None = None
    ) -> bool:
        """Mark the row sent (``result_ts``: the ts of the last message posted).

        Its webhook delivery is marked ``posted`` in the same transaction, and
        ``also`` runs in it (whether or not the lease was still held).
        """
        return await self._update_owned(
            lease,
            also=also,
            delivery_outcome="posted",
            status=SENT,
            result_ts=result_ts,
            finished_at=now,
            lease_owner=None,
            lease_until=None,
            error=None,
        )

    async def retry_later(self, lease: Lease, at: datetime, error: str) -> bool:
        """Give the row back, due again at ``at``, noting ``error``."""
        return await self._update_owned(
            lease, next_attempt_at=at, error=error[:500], lease_owner=None, lease_until=None
        )

    async def fail(self, lease: Lease, now: datetime, error: str) -> bool:
        """Give up on the row for good (a permanent error); its delivery is marked ``failed``."""
        return await self._update_owned(
            lease,
            delivery_outcome="failed",
            status=FAILED,
            error=error[:500],
            finished_at=now,
            lease_owner=None,
            lease_until=None,
        )

    async def _update_owned(
        self,
        lease: Lease,
        *,
        delivery_outcome: str | None = None,
        also: Also | None = None,
        **values: object,
    ) -> bool:
        statement = (
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == lease.row.id,
                col(OutboxRow.lease_owner) == lease.owner,
                col(OutboxRow.status) == PENDING,
            )
            .values(**values)
        )
        async with self.db.session() as session:
            if also is not None:
                await also(session)
            result = await session.exec(statement)
            owned = bool(result.rowcount)
            if owned and delivery_outcome and lease.group:
                # The folded rows end with it (their lease fields were never set).
                finished = {
                    k: v for k, v in values.items() if k not in ("lease_owner", "lease_until")
                }
                await session.exec(
                    update(OutboxRow)
                    .where(
                        col(OutboxRow.id).in_([r.id for r in lease.group]),
                        col(OutboxRow.collapsed_into) == lease.row.id,
                        col(OutboxRow.status) == PENDING,
                    )
                    .values(**finished)
                )
            delivery_ids = [r.delivery_id for r in lease.rows() if r.delivery_id is not None]
            if owned and delivery_outcome and delivery_ids:
                await session.exec(
                    update(_deliveries)
                    .where(_deliveries.c.id.in_(delivery_ids))
                    .values(outcome=delivery_outcome)
                )
            return owned

    async def undigested(self, channel: str, limit: int) -> list[Waiting]:
        """Pending subject rows of ``channel`` no digest has shown yet, oldest first.

        A read-only transaction (on SQLite it takes no write lock, so intake is not held
        up while a large digest is read).
        """
        async with self.db.read() as conn:
            ids = await undigested_rows(conn, channel, limit)
            if not ids:
                return []
            query = (
                select(OutboxRow.id, OutboxRow.subject_key, OutboxRow.payload)
                .where(col(OutboxRow.id).in_(ids))
                .order_by(col(OutboxRow.id))
            )
            return [Waiting(int(i), k, p) for i, k, p in (await conn.execute(query)).all()]

    async def mark_digested(
        self, lease: Lease, rows: Sequence[Waiting], ts: str, next_digest: datetime
    ) -> bool:
        """Record that digest ``ts`` showed ``rows``, and give the leased head back.

        The head's lease ends without counting an attempt (its own delivery is next),
        and the channel's next digest waits until ``next_digest``: one transaction.
        Returns False when the lease was lost (nothing is marked then).
        """
        async with self.db.session() as session:
            released = await session.exec(
                update(OutboxRow)
                .where(
                    col(OutboxRow.id) == lease.row.id,
                    col(OutboxRow.lease_owner) == lease.owner,
                    col(OutboxRow.status) == PENDING,
                )
                .values(lease_owner=None, lease_until=None, attempts=OutboxRow.attempts - 1)
            )
            if not released.rowcount:
                return False
            await session.exec(
                update(OutboxRow)
                .where(
                    col(OutboxRow.id).in_([r.id for r in rows]),
                    col(OutboxRow.status) == PENDING,
                    col(OutboxRow.digest_ts).is_(None),
                )
                .values(digest_ts=ts)
            )
            await session.exec(
                self.db.insert(SlackPacing)
                .values(key=digest_key(lease.row.channel), next_allowed_at=next_digest)
                .on_conflict_do_update(
                    index_elements=["key"], set_={"next_allowed_at": next_digest}
                )
            )
            return True

    async def rows(self, *, channel: str | None = None) -> list[OutboxRow]:
        """Every row (of ``channel``), oldest first: for tests and diagnostics."""
        query = select(OutboxRow).order_by(col(OutboxRow.id))
        if channel is not None:
            query = query.where(OutboxRow.channel == channel)
        async with self.db.session() as session:
            return list((await session.exec(query)).all())
