"""Streampixel builds the bot knows, the shared distribute slot, and queued distributions.

Three tables:

- ``known_builds``: every upload the bot made or heard about by webhook, with
  its last pipeline status (what ``/build builds`` and ``/build rollback`` show).
- ``rate_slots``: when each Streampixel account last used its one-per-window
  call (upload or distribute). Replicas share it, so the bot never sends a
  call it knows Streampixel will refuse.
- ``queued_distributions``: distributions waiting for the slot; a scheduler
  runs them, and they survive restarts because they live here.

SQLite hands datetimes back naive; every value read is returned as UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, case, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Executable
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import lengths
from storage.db import Database, Write
from storage.due_probe import DueProbe
from storage.timeutil import UTCDateTime

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


class KnownBuild(SQLModel, table=True):
    """One Streampixel upload and the last pipeline status heard about it."""

    __tablename__ = "known_builds"

    project_id: str = Field(primary_key=True, max_length=lengths.PROJECT_ID)
    upload_id: str = Field(primary_key=True, max_length=lengths.UPLOAD_ID)
    file_url: str | None = Field(default=None, sa_type=Text)
    auto_release: bool | None = Field(default=None)
    requested_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_status: str | None = Field(default=None, max_length=lengths.BUILD_STATUS)
    last_status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    objection: str | None = Field(default=None, sa_type=Text)


class QueuedDistribution(SQLModel, table=True):
    """A distribution (or rollback) waiting for the account's next slot."""

    __tablename__ = "queued_distributions"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=lengths.PROJECT_ID, index=True)
    upload_id: str = Field(max_length=lengths.UPLOAD_ID)
    action: str = Field(max_length=32)
    requested_by: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    run_at: datetime = Field(index=True, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=PENDING, max_length=16, index=True)
    message: str = Field(default="", sa_type=Text)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Build:
    """A known build as read back (times in UTC)."""

    project_id: str
    upload_id: str
    file_url: str | None
    auto_release: bool | None
    requested_by: str | None
    created_at: datetime
    last_status: str | None
    last_status_at: datetime | None
    objection: str | None


@dataclass(frozen=True)
class Queued:
    """A queued distribution as read back (times in UTC)."""

    id: int
    project_id: str
    upload_id: str
    action: str
    requested_by: str
    channel_id: str
    run_at: datetime
    created_at: datetime
    state: str
    message: str
    finished_at: datetime | None


def _build(row: KnownBuild) -> Build:
    return Build(
        project_id=row.project_id,
        upload_id=row.upload_id,
        file_url=row.file_url,
        auto_release=row.auto_release,
        requested_by=row.requested_by,
        created_at=row.created_at,
        last_status=row.last_status,
        last_status_at=(row.last_status_at),
        objection=row.objection,
    )


def _queued(row: QueuedDistribution) -> Queued:
    assert row.id is not None
    return Queued(
        id=row.id,
        project_id=row.project_id,
        upload_id=row.upload_id,
        action=row.action,
        requested_by=row.requested_by,
        channel_id=row.channel_id,
        run_at=row.run_at,
        created_at=row.created_at,
        state=row.state,
        message=row.message,
        finished_at=(row.finished_at),
    )


class BuildStore:
    """Reads and writes known builds, rate slots and queued distributions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._upsert: Executable | None = None
        table = QueuedDistribution.__table__  # type: ignore[attr-defined]
        self._due = DueProbe(db, table, ("state", PENDING), "run_at")

    # -- known builds --------------------------------------------------------

    async def remember_upload(
        self,
        project_id: str,
        upload_id: str,
        *,
        file_url: str,
        auto_release: bool,
        requested_by: str,
        at: datetime,
    ) -> None:
        """Record an upload the bot made (a webhook may already have created the row)."""

        def apply(row: KnownBuild) -> None:
            row.file_url = file_url
            row.auto_release = auto_release
            row.requested_by = requested_by
            if row.last_status is None:
                row.last_status, row.last_status_at = "pending", at

        await self._upsert_build(project_id, upload_id, at, apply)

    async def note_pipeline_event(
        self,
        project_id: str,
        upload_id: str,
        status: str,
        file_url: str | None,
        objection: str | None,
        at: datetime,
    ) -> None:
        """Record a pipeline webhook about a build, creating the row if it is new.

        An event older than the status already stored (webhooks can arrive out of
        order) does not overwrite it.

        Args:
            project_id: the project the event is about.
            upload_id: the build.
            status: the payload's raw ``status`` ("Downloading Files", "Approved", ...).
            file_url: the payload's ``fileUrl`` (kept if the row has none).
            objection: the rejection reason, if any.
            at: the event's timestamp.
        """
        moment = at
        await self._upsert_build(
            project_id, upload_id, moment, _pipeline_update(status, file_url, objection, moment)
        )

    def pipeline_write(
        self,
        project_id: str,
        upload_id: str,
        status: str,
        file_url: str | None,
        objection: str | None,
        at: datetime,
    ) -> Write:
        """:meth:`note_pipeline_event` as a write for the webhook intake's transaction.

        One upsert (no read first), the same statement every time, so a batch of
        webhooks runs all of them as one executemany.
        """
        return Write(
            self._pipeline_upsert(),
            {
                "project_id": project_id,
                "upload_id": upload_id,
                "file_url": file_url,
                "created_at": at,
                "last_status": status,
                "last_status_at": at,
                "objection": objection,
            },
        )

    def _pipeline_upsert(self) -> Executable:
        """The upsert behind :meth:`pipeline_write`, built once (so it is compiled once)."""
        if self._upsert is None:
            table = KnownBuild.__table__  # type: ignore[attr-defined]  # SQLModel table
            insert = self.db.insert(table)
            new = insert.excluded
            newer = or_(
                table.c.last_status_at.is_(None), new.last_status_at >= table.c.last_status_at
            )
            self._upsert = insert.on_conflict_do_update(
                index_elements=["project_id", "upload_id"],
                set_={
                    "file_url": func.coalesce(table.c.file_url, new.file_url),
                    "last_status": case((newer, new.last_status), else_=table.c.last_status),
                    "objection": case((newer, new.objection), else_=table.c.objection),
                    "last_status_at": case(
                        (newer, new.last_status_at), else_=table.c.last_status_at
                    ),
                },
            )
        return self._upsert

    async def _upsert_build(
        self,
        project_id: str,
        upload_id: str,
        created_at: datetime,
        apply: Callable[[KnownBuild], None],
    ) -> None:
        for attempt in range(2):
            try:
                async with self.db.session() as session:
                    await _upsert_in(session, project_id, upload_id, created_at, apply)
                return
            except IntegrityError:
                # Another writer created the row between our read and insert: update it.
                if attempt:
                    raise

    async def get_build(self, project_id: str, upload_id: str) -> Build | None:
        """One known build, if the bot knows it."""
        async with self.db.session() as session:
            row = await session.get(KnownBuild, (project_id, upload_id))
            return None if row is None else _build(row)

    async def builds_with_upload(self, upload_id: str) -> list[Build]:
        """Every known build with this upload id, whatever its project (normally one)."""
        async with self.db.session() as session:
            rows = await session.exec(select(KnownBuild).where(KnownBuild.upload_id == upload_id))
            return [_build(r) for r in rows.all()]

    async def builds_for(self, project_id: str, *, limit: int = 50, offset: int = 0) -> list[Build]:
        """Known builds of a project, newest first."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(KnownBuild)
                .where(KnownBuild.project_id == project_id)
                .order_by(col(KnownBuild.created_at).desc(), col(KnownBuild.upload_id).desc())
                .offset(offset)
                .limit(limit)
            )
            return [_build(r) for r in rows.all()]

    async def count_builds(self, project_id: str) -> int:
        """How many builds of the project the bot knows."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(func.count())
                .select_from(KnownBuild)
                .where(KnownBuild.project_id == project_id)
            )
            return int(rows.one())

    # -- queued distributions -----------------------------------------------

    async def enqueue(
        self,
        *,
        project_id: str,
        upload_id: str,
        action: str,
        requested_by: str,
        channel_id: str,
        run_at: datetime,
        now: datetime,
    ) -> Queued:
        """Store a distribution to run at ``run_at``."""
        async with self.db.session() as session:
            row = QueuedDistribution(
                project_id=project_id,
                upload_id=upload_id,
                action=action,
                requested_by=requested_by,
                channel_id=channel_id,
                run_at=run_at,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return _queued(row)

    async def claim_due(self, now: datetime) -> Queued | None:
        """Take the oldest due pending distribution for this caller (one replica wins it)."""
        if await self._due.none_due(now):  # the usual poll: nothing due, no session
            return None
        while True:
            async with self.db.session() as session:
                rows = await session.exec(
                    select(QueuedDistribution)
                    .where(
                        QueuedDistribution.state == PENDING, col(QueuedDistribution.run_at) <= now
                    )
                    .order_by(col(QueuedDistribution.run_at), col(QueuedDistribution.id))
                    .limit(1)
                )
                row = rows.first()
                if row is None:
                    return None
                result = await session.exec(
                    update(QueuedDistribution)
                    .where(
                        col(QueuedDistribution.id) == row.id,
                        col(QueuedDistribution.state) == PENDING,
                    )
                    .values(state=RUNNING)
                )
                if result.rowcount == 1:
                    await session.refresh(row)
                    return _queued(row)

    async def reschedule(self, queued_id: int, run_at: datetime) -> None:
        """Put a claimed distribution back in the queue for ``run_at``."""
        async with self.db.session() as session:
            await session.exec(
                update(QueuedDistribution)
                .where(col(QueuedDistribution.id) == queued_id)
                .values(state=PENDING, run_at=run_at)
            )

    async def finish_queued(self, queued_id: int, state: str, message: str, at: datetime) -> None:
        """Record how a queued distribution ended (``done`` or ``failed``)."""
        async with self.db.session() as session:
            await session.exec(
                update(QueuedDistribution)
                .where(col(QueuedDistribution.id) == queued_id)
                .values(state=state, message=message, finished_at=at)
            )

    async def queued(self, *, state: str | None = None) -> list[Queued]:
        """Queued distributions (all, or those in ``state``), by run time."""
        async with self.db.session() as session:
            query = select(QueuedDistribution).order_by(
                col(QueuedDistribution.run_at), col(QueuedDistribution.id)
            )
            if state is not None:
                query = query.where(QueuedDistribution.state == state)
            rows = await session.exec(query)
            return [_queued(r) for r in rows.all()]

    async def next_due(self) -> datetime | None:
        """When the earliest pending distribution is due, if any is pending."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(func.min(QueuedDistribution.run_at)).where(
                    QueuedDistribution.state == PENDING
                )
            )
            value = rows.one()
            return value


def _pipeline_update(
    status: str, file_url: str | None, objection: str | None, moment: datetime
) -> Callable[[KnownBuild], None]:
    def apply(row: KnownBuild) -> None:
        if file_url and not row.file_url:
            row.file_url = file_url
        last = row.last_status_at
        if last is None or moment >= last:
            row.last_status, row.last_status_at = status, moment
            row.objection = objection

    return apply


async def _upsert_in(
    session: AsyncSession,
    project_id: str,
    upload_id: str,
    created_at: datetime,
    apply: Callable[[KnownBuild], None],
) -> None:
    row = await session.get(KnownBuild, (project_id, upload_id))
    if row is None:
        row = KnownBuild(project_id=project_id, upload_id=upload_id, created_at=created_at)
    apply(row)
    session.add(row)
