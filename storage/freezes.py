"""Release freezes: while one is active, releases for its project (or all) are refused.

One table, ``freezes``: a project id (or ``*`` for every project), the reason,
who set it from which channel, and the window ``[starts_at, ends_at)``. An
early ``unfreeze`` sets ``ended_at``/``ended_by``. ``announced`` marks a freeze
whose end the channel was told about; the flag is set by a conditional
``UPDATE`` so that of several replicas exactly one announces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, or_, update
from sqlmodel import Field, SQLModel, col, select

from storage.db import Database
from storage.timeutil import UTCDateTime

#: The ``project_id`` of a freeze on every project.
ALL = "*"


class FreezeRow(SQLModel, table=True):
    """One freeze window."""

    __tablename__ = "freezes"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=64, index=True)
    project_name: str = Field(max_length=200)
    reason: str = Field(sa_type=Text)
    frozen_by: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=64)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    announced: bool = False


@dataclass(frozen=True)
class Freeze:
    """A freeze as read back (times in UTC).

    Attributes:
        until: when it ends (``ended_at`` if it was lifted early, else ``ends_at``).
    """

    id: int
    project_id: str
    project_name: str
    reason: str
    frozen_by: str
    channel_id: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    ended_by: str | None
    ended_at: datetime | None

    @property
    def is_all(self) -> bool:
        """True for a freeze on every project."""
        return self.project_id == ALL

    @property
    def until(self) -> datetime:
        """When the freeze ends (or ended)."""
        return self.ended_at or self.ends_at


def _freeze(row: FreezeRow) -> Freeze:
    assert row.id is not None
    return Freeze(
        id=row.id,
        project_id=row.project_id,
        project_name=row.project_name,
        reason=row.reason,
        frozen_by=row.frozen_by,
        channel_id=row.channel_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        ended_by=row.ended_by,
        ended_at=None if row.ended_at is None else row.ended_at,
    )


class FreezeStore:
    """Adds, finds, lifts and announces freezes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        project_id: str,
        project_name: str,
        reason: str,
        frozen_by: str,
        channel_id: str,
        starts_at: datetime,
        ends_at: datetime,
        now: datetime,
    ) -> Freeze:
        """Store a new freeze."""
        row = FreezeRow(
            project_id=project_id,
            project_name=project_name,
            reason=reason,
            frozen_by=frozen_by,
            channel_id=channel_id,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=now,
        )
        async with self.db.session() as session:
            session.add(row)
            await session.flush()
            return _freeze(row)

    async def active(self, project_id: str | None, now: datetime) -> list[Freeze]:
        """Freezes in force at ``now`` on ``project_id`` (or on all), latest end first.

        ``project_id=None`` asks about freezes on every project only.
        """
        now = now
        scopes = [ALL] if project_id is None else [ALL, project_id]
        query = (
            select(FreezeRow)
            .where(
                col(FreezeRow.project_id).in_(scopes),
                col(FreezeRow.starts_at) <= now,
                col(FreezeRow.ends_at) > now,
                col(FreezeRow.ended_at).is_(None),
            )
            .order_by(col(FreezeRow.ends_at).desc(), col(FreezeRow.id))
        )
        async with self.db.session() as session:
            return [_freeze(r) for r in (await session.exec(query)).all()]

    async def current_and_upcoming(self, now: datetime) -> list[Freeze]:
        """Every freeze not over yet (active or still to start), soonest start first."""
        query = (
            select(FreezeRow)
            .where(col(FreezeRow.ends_at) > now, col(FreezeRow.ended_at).is_(None))
            .order_by(col(FreezeRow.starts_at), col(FreezeRow.id))
        )
        async with self.db.session() as session:
            return [_freeze(r) for r in (await session.exec(query)).all()]

    async def lift(self, project_id: str, *, by: str, now: datetime) -> list[Freeze]:
        """End every not-yet-over freeze on ``project_id`` now; the freezes lifted.

        Lifted freezes are marked announced: whoever lifts one says so.
        """
        at = now
        query = select(FreezeRow).where(
            FreezeRow.project_id == project_id,
            col(FreezeRow.ends_at) > at,
            col(FreezeRow.ended_at).is_(None),
        )
        lifted: list[Freeze] = []
        async with self.db.session() as session:
            for row in (await session.exec(query)).all():
                result = await session.exec(
                    update(FreezeRow)
                    .where(col(FreezeRow.id) == row.id, col(FreezeRow.ended_at).is_(None))
                    .values(ended_at=at, ended_by=by, announced=True)
                )
                if result.rowcount:
                    row.ended_at, row.ended_by = at, by
                    lifted.append(_freeze(row))
        return lifted

    async def take_ended(self, now: datetime, *, limit: int = 50) -> list[Freeze]:
        """Freezes that ran out by ``now`` and were not announced; each returned once ever."""
        at = now
        query = (
            select(FreezeRow)
            .where(
                col(FreezeRow.announced).is_(False),
                or_(col(FreezeRow.ends_at) <= at, col(FreezeRow.ended_at).is_not(None)),
            )
            .order_by(col(FreezeRow.ends_at))
            .limit(limit)
        )
        taken: list[Freeze] = []
        async with self.db.session() as session:
            rows = list((await session.exec(query)).all())
        for row in rows:
            async with self.db.session() as session:
                result = await session.exec(
                    update(FreezeRow)
                    .where(col(FreezeRow.id) == row.id, col(FreezeRow.announced).is_(False))
                    .values(announced=True)
                )
                if result.rowcount:
                    taken.append(_freeze(row))
        return taken
