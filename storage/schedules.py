"""Scheduled distributions and rollbacks: stored, claimed once, finished once.

A row is created ``pending`` with ``due_at`` (the time asked for) and
``run_at`` (when to try next: ``due_at``, later if the distribute slot was
busy). Every transition is a conditional UPDATE on the current state, so with
several replicas each step happens exactly once:

- :meth:`ScheduleStore.claim_due` turns the oldest due ``pending`` row into
  ``running`` for one runner, or straight into ``missed`` when it is more than
  the grace period late (no replica was up at the time): a late run is reported,
  never made.
- :meth:`ScheduleStore.wait_for_slot` puts a running row back to ``pending``
  for the moment the slot opens.
- :meth:`ScheduleStore.finish` ends a running row (``done``, ``failed``,
  ``refused``); :meth:`ScheduleStore.cancel` ends a pending one.
- :meth:`ScheduleStore.expire_stale` ends a row whose runner vanished while
  running as ``failed``: it may or may not have reached Streampixel, so it is
  reported for a human to check, not run a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Text, func, update
from sqlmodel import Field, SQLModel, col, select

from storage.db import Database
from storage.due_probe import DueProbe
from storage.timeutil import UTCDateTime

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
REFUSED = "refused"
MISSED = "missed"
CANCELLED = "cancelled"
#: Handed to the approval flow (the project needs approvals): it runs once approved.
APPROVAL = "approval"
#: States a schedule ends in.
FINAL = frozenset({DONE, FAILED, REFUSED, MISSED, CANCELLED, APPROVAL})


class ScheduledRelease(SQLModel, table=True):
    """One scheduled distribution (or rollback) of a Streampixel build."""

    __tablename__ = "scheduled_releases"
    __table_args__ = (Index("ix_scheduled_releases_state_run_at", "state", "run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=64)
    project_name: str = Field(max_length=200)
    upload_id: str = Field(max_length=64)
    action: str = Field(max_length=16)
    requested_by: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    run_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(max_length=16)
    attempts: int
    runner: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_by: str | None = Field(default=None, max_length=64)
    message: str = Field(sa_type=Text)


@dataclass(frozen=True)
class Schedule:
    """A scheduled run as read back (times in UTC).

    Attributes:
        due_at: the time asked for.
        run_at: when it is next tried (later than ``due_at`` while waiting for the slot).
        finished_by: who cancelled it (cancelled rows only).
    """

    id: int
    project_id: str
    project_name: str
    upload_id: str
    action: str
    requested_by: str
    channel_id: str
    due_at: datetime
    run_at: datetime
    created_at: datetime
    state: str
    attempts: int
    runner: str | None
    claimed_at: datetime | None
    finished_at: datetime | None
    finished_by: str | None
    message: str = Field(sa_type=Text)


def _schedule(row: ScheduledRelease) -> Schedule:
    assert row.id is not None
    return Schedule(
        id=row.id,
        project_id=row.project_id,
        project_name=row.project_name,
        upload_id=row.upload_id,
        action=row.action,
        requested_by=row.requested_by,
        channel_id=row.channel_id,
        due_at=row.due_at,
        run_at=row.run_at,
        created_at=row.created_at,
        state=row.state,
        attempts=row.attempts,
        runner=row.runner,
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
        finished_by=row.finished_by,
        message=row.message,
    )


class ScheduleStore:
    """Creates, lists, claims and ends scheduled runs (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        table = ScheduledRelease.__table__  # type: ignore[attr-defined]
        self._due = DueProbe(db, table, ("state", PENDING), "run_at")
        self._stale = DueProbe(db, table, ("state", RUNNING), "claimed_at", "<")

    async def create(
        self,
        *,
        project_id: str,
        project_name: str,
        upload_id: str,
        action: str,
        requested_by: str,
        channel_id: str,
        due_at: datetime,
        now: datetime,
    ) -> Schedule:
        """Store a pending run due at ``due_at``."""
        row = ScheduledRelease(
            project_id=project_id,
            project_name=project_name[:200],
            upload_id=upload_id,
            action=action,
            requested_by=requested_by,
            channel_id=channel_id,
            due_at=due_at,
            run_at=due_at,
            created_at=now,
            state=PENDING,
            attempts=0,
            message="",
        )
        async with self.db.session() as session:
            session.add(row)
            await session.flush()
            return _schedule(row)

    async def get(self, schedule_id: int) -> Schedule | None:
        """One schedule by id."""
        async with self.db.session() as session:
            row = await session.get(ScheduledRelease, schedule_id)
            return None if row is None else _schedule(row)

    async def upcoming(self, *, project_id: str | None = None, limit: int = 50) -> list[Schedule]:
        """Runs not yet ended (pending or running), soonest first."""
        query = (
            select(ScheduledRelease)
            .where(col(ScheduledRelease.state).in_([PENDING, RUNNING]))
            .order_by(col(ScheduledRelease.run_at), col(ScheduledRelease.id))
            .limit(limit)
        )
        if project_id is not None:
            query = query.where(ScheduledRelease.project_id == project_id)
        async with self.db.session() as session:
            return [_schedule(r) for r in (await session.exec(query)).all()]

    async def cancel(self, schedule_id: int, *, by: str, at: datetime) -> Schedule | None:
        """Cancel a pending run; None when it is no longer pending (ran, cancelled...)."""
        return await self._move(
            schedule_id,
            (PENDING,),
            state=CANCELLED,
            finished_at=at,
            finished_by=by,
            message="cancelled",
        )

    async def claim_due(self, now: datetime, *, runner: str, grace: timedelta) -> Schedule | None:
        """Take the oldest due pending run: ``running`` for ``runner``, or ``missed``.

        Exactly one caller gets each row, whatever the number of replicas.

        Args:
            now: the current time.
            runner: who runs it (a replica's name), recorded on the row.
            grace: a run more than this late is marked ``missed`` instead.

        Returns:
            The claimed row in its new state, or None when nothing is due.
        """
        if await self._due.none_due(now):  # the usual poll: nothing due, no session
            return None
        while True:
            async with self.db.session() as session:
                rows = await session.exec(
                    select(ScheduledRelease.id, ScheduledRelease.run_at)
                    .where(ScheduledRelease.state == PENDING, col(ScheduledRelease.run_at) <= now)
                    .order_by(col(ScheduledRelease.run_at), col(ScheduledRelease.id))
                    .limit(1)
                )
                first = rows.first()
            if first is None:
                return None
            schedule_id, run_at = first
            assert schedule_id is not None
            late = now - run_at > grace
            if late:
                claimed = await self._move(
                    schedule_id,
                    (PENDING,),
                    runner=runner,
                    claimed_at=now,
                    state=MISSED,
                    finished_at=now,
                    message="missed",
                )
            else:
                claimed = await self._move(
                    schedule_id,
                    (PENDING,),
                    runner=runner,
                    claimed_at=now,
                    state=RUNNING,
                    attempts=ScheduledRelease.attempts + 1,
                )
            if claimed is not None:
                return claimed
            # Another replica took it first: look again.

    async def wait_for_slot(self, schedule_id: int, *, runner: str, until: datetime) -> bool:
        """Give a running row back as pending, to be tried again at ``until``."""
        moved = await self._move(
            schedule_id,
            (RUNNING,),
            owned_by=runner,
            state=PENDING,
            run_at=until,
            message="waiting for the distribute slot",
        )
        return moved is not None

    async def finish(
        self, schedule_id: int, *, runner: str, state: str, message: str, at: datetime
    ) -> Schedule | None:
        """End a running row (``done``, ``failed`` or ``refused``) claimed by ``runner``."""
        if state not in FINAL:
            raise ValueError(f"not a final state: {state}")
        return await self._move(
            schedule_id,
            (RUNNING,),
            owned_by=runner,
            state=state,
            message=message,
            finished_at=at,
        )

    async def expire_stale(self, now: datetime, *, older_than: timedelta) -> list[Schedule]:
        """End rows left ``running`` by a runner that vanished; each is returned once."""
        cutoff = now - older_than
        if await self._stale.none_due(cutoff):  # the usual poll: nothing stale, no session
            return []
        async with self.db.session() as session:
            rows = await session.exec(
                select(ScheduledRelease.id).where(
                    ScheduledRelease.state == RUNNING,
                    col(ScheduledRelease.claimed_at) < cutoff,
                )
            )
            stale = [i for i in rows.all() if i is not None]
        ended = []
        for schedule_id in stale:
            moved = await self._move(
                schedule_id,
                (RUNNING,),
                claimed_before=cutoff,
                state=FAILED,
                finished_at=now,
                message="interrupted while running: check /build builds before trying again",
            )
            if moved is not None:
                ended.append(moved)
        return ended

    async def next_due(self) -> datetime | None:
        """When the earliest pending run is due, if any is pending."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(func.min(ScheduledRelease.run_at)).where(ScheduledRelease.state == PENDING)
            )
            return rows.one()

    async def _move(
        self,
        schedule_id: int,
        from_states: tuple[str, ...],
        *,
        owned_by: str | None = None,
        claimed_before: datetime | None = None,
        **values: object,
    ) -> Schedule | None:
        """Apply ``values`` if the row is in one of ``from_states``; the row after, or None.

        Args:
            owned_by: also require that this runner claimed the row.
            claimed_before: also require that it was claimed before this time.
        """
        conditions = [
            col(ScheduledRelease.id) == schedule_id,
            col(ScheduledRelease.state).in_(from_states),
        ]
        if owned_by is not None:
            conditions.append(col(ScheduledRelease.runner) == owned_by)
        if claimed_before is not None:
            conditions.append(col(ScheduledRelease.claimed_at) < claimed_before)
        async with self.db.session() as session:
            result = await session.exec(
                update(ScheduledRelease).where(*conditions).values(**values)
            )
            if result.rowcount != 1:
                return None
            row = await session.get(ScheduledRelease, schedule_id, populate_existing=True)
            assert row is not None
            return _schedule(row)
