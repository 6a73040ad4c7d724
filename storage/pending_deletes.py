"""Video deletes that wait out an undo window, then run exactly once.

A confirmed delete becomes a ``pending`` row due ``STREAMOPS_DELETE_UNDO_MINUTES``
later. Undo and the due run race through conditional UPDATEs on ``state``: the
first to move the row out of ``pending`` wins, on any replica, so a delete is
either undone or sent to StreamStack once. A row left ``running`` by a crash is
not retried (StreamStack may already have acted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Text, update
from sqlmodel import Field, SQLModel, col, select

from storage.db import Database
from storage.due_probe import DueProbe
from storage.timeutil import UTCDateTime

PENDING = "pending"
RUNNING = "running"
UNDONE = "undone"
DONE = "done"
FAILED = "failed"


class PendingDeleteRow(SQLModel, table=True):
    """One scheduled video delete and how it ended."""

    __tablename__ = "pending_deletes"
    __table_args__ = (
        Index("ix_pending_deletes_state_due", "state", "due_at"),
        Index("ix_pending_deletes_media_uuid", "media_uuid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    media_uuid: str = Field(max_length=64)
    title: str = Field(sa_type=Text)
    requested_by: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    message_ts: str | None = Field(default=None, max_length=32)
    due_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=PENDING, max_length=16)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_by: str | None = Field(default=None, max_length=64)
    message: str = Field(default="", sa_type=Text)


@dataclass(frozen=True)
class PendingDelete:
    """A scheduled delete as read back (times in UTC)."""

    id: int
    media_uuid: str
    title: str
    requested_by: str
    channel_id: str
    message_ts: str | None
    due_at: datetime
    state: str
    finished_by: str | None
    message: str


def _read(row: PendingDeleteRow) -> PendingDelete:
    assert row.id is not None
    return PendingDelete(
        id=row.id,
        media_uuid=row.media_uuid,
        title=row.title,
        requested_by=row.requested_by,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        due_at=row.due_at,
        state=row.state,
        finished_by=row.finished_by,
        message=row.message,
    )


class PendingDeleteStore:
    """Scheduled video deletes, shared by every replica."""

    def __init__(self, db: Database) -> None:
        self.db = db
        table = PendingDeleteRow.__table__  # type: ignore[attr-defined]
        self._due = DueProbe(db, table, ("state", PENDING), "due_at")

    async def schedule(
        self,
        *,
        media_uuid: str,
        title: str,
        requested_by: str,
        channel_id: str,
        message_ts: str | None,
        due_at: datetime,
        now: datetime,
    ) -> tuple[PendingDelete, bool]:
        """Schedule a delete; returns it and False when one was already pending for the video."""
        async with self.db.session() as session:
            existing = (
                await session.exec(
                    select(PendingDeleteRow).where(
                        PendingDeleteRow.media_uuid == media_uuid,
                        col(PendingDeleteRow.state).in_((PENDING, RUNNING)),
                    )
                )
            ).first()
            if existing is not None:
                return _read(existing), False
            row = PendingDeleteRow(
                media_uuid=media_uuid,
                title=title,
                requested_by=requested_by,
                channel_id=channel_id,
                message_ts=message_ts,
                due_at=due_at,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return _read(row), True

    async def get(self, delete_id: int) -> PendingDelete | None:
        """One scheduled delete, if it exists."""
        async with self.db.session() as session:
            row = await session.get(PendingDeleteRow, delete_id)
            return None if row is None else _read(row)

    async def set_message(self, delete_id: int, message_ts: str) -> None:
        """Remember the Slack message that shows the Undo button."""
        async with self.db.session() as session:
            await session.exec(
                update(PendingDeleteRow)
                .where(col(PendingDeleteRow.id) == delete_id)
                .values(message_ts=message_ts)
            )

    async def undo(self, delete_id: int, actor_id: str, now: datetime) -> bool:
        """Cancel a pending delete; True only for the one caller that did it in time."""
        async with self.db.session() as session:
            result = await session.exec(
                update(PendingDeleteRow)
                .where(
                    col(PendingDeleteRow.id) == delete_id, col(PendingDeleteRow.state) == PENDING
                )
                .values(state=UNDONE, finished_at=now, finished_by=actor_id)
            )
            return bool(result.rowcount == 1)

    async def claim_due(self, now: datetime) -> PendingDelete | None:
        """Move the oldest due delete to ``running`` and return it (one caller per row)."""
        if await self._due.none_due(now):  # the usual poll: nothing due, no session
            return None
        async with self.db.session() as session:
            candidates = await session.exec(
                select(PendingDeleteRow.id)
                .where(PendingDeleteRow.state == PENDING, col(PendingDeleteRow.due_at) <= now)
                .order_by(col(PendingDeleteRow.due_at))
                .limit(5)
            )
            ids = list(candidates.all())
        for delete_id in ids:
            async with self.db.session() as session:
                result = await session.exec(
                    update(PendingDeleteRow)
                    .where(
                        col(PendingDeleteRow.id) == delete_id,
                        col(PendingDeleteRow.state) == PENDING,
                    )
                    .values(state=RUNNING)
                )
                if result.rowcount == 1:
                    row = await session.get(PendingDeleteRow, delete_id)
                    assert row is not None
                    return _read(row)
        return None

    async def finish(self, delete_id: int, state: str, message: str, now: datetime) -> None:
        """Record how a running delete ended (``done`` or ``failed``)."""
        async with self.db.session() as session:
            await session.exec(
                update(PendingDeleteRow)
                .where(col(PendingDeleteRow.id) == delete_id)
                .values(state=state, message=message, finished_at=now)
            )

    async def next_due(self) -> datetime | None:
        """When the earliest pending delete is due, if any."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(PendingDeleteRow.due_at)
                .where(PendingDeleteRow.state == PENDING)
                .order_by(col(PendingDeleteRow.due_at))
                .limit(1)
            )
            return rows.first()
