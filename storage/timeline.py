"""The release timeline of each Streampixel project: which build is live, and the decisions.

``known_builds`` (:mod:`storage.builds`) holds every build the bot knows and its
pipeline status. This module adds what happened *to* builds, one append-only
row each, in ``release_events``:

- ``live``: the build became the live one. Written when the bot's distribution
  or rollback was accepted by Streampixel (with who did it and from where), and
  when a ``build.distributing`` webhook arrives (no actor: Streampixel's
  auto-release, or someone outside the bot).
- ``approved``: someone approved a distribution or rollback of the build (the
  two-person rule), so the build's message can say so.

Which build is live is *derived* from the ``live`` rows ordered by event time:
consecutive rows about the same build are one stay on air (the bot's own row and
the webhook confirming it, whichever arrives first), the last stay is the live
build and the one before it the previous live build. Deriving it means a
webhook arriving late or out of order cannot leave a wrong "live" mark behind.

Also here: the names of Streampixel projects as last listed, so that messages
rendered without a provider call (notifications) can name the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import lengths
from storage.db import Database, Write
from storage.timeutil import UTCDateTime

LIVE = "live"
APPROVED = "approved"

#: How the build was made live.
VIA_DISTRIBUTE = "distribute"
VIA_ROLLBACK = "rollback"
VIA_PROVIDER = "provider"

#: Where a timeline row came from.
SOURCE_WEBHOOK = "webhook"

#: How many recent ``live`` rows are read to find the live and previous live build.
LIVE_HISTORY = 200


class ReleaseEvent(SQLModel, table=True):
    """One thing that happened to a build (see the module docstring for the kinds)."""

    __tablename__ = "release_events"
    __table_args__ = (
        Index("ix_release_events_project_at", "project_id", "at"),
        Index("ix_release_events_project_upload", "project_id", "upload_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=lengths.PROJECT_ID)
    upload_id: str = Field(max_length=lengths.UPLOAD_ID)
    kind: str = Field(max_length=16)
    via: str | None = Field(default=None, max_length=16)
    actor_id: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=16)
    at: datetime = Field(sa_type=UTCDateTime)
    detail: str | None = Field(default=None, sa_type=Text)


class ProjectName(SQLModel, table=True):
    """A Streampixel project's name as last listed."""

    __tablename__ = "streampixel_project_names"

    project_id: str = Field(primary_key=True, max_length=lengths.PROJECT_ID)
    name: str = Field(max_length=lengths.PROJECT_NAME)
    updated_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class LiveBuild:
    """A build's stay on air.

    Attributes:
        since: when it became live (the first row of the stay).
        by: who made it live through the bot (None: Streampixel on its own).
        via: ``distribute``, ``rollback`` or ``provider``.
        source: where the bot's action came from (``button``, ``schedule``...) or ``webhook``.
    """

    project_id: str
    upload_id: str
    since: datetime
    by: str | None
    via: str
    source: str


@dataclass(frozen=True)
class LiveState:
    """The live build of a project and the one live before it (either may be unknown)."""

    project_id: str
    current: LiveBuild | None
    previous: LiveBuild | None


@dataclass(frozen=True)
class Stamp:
    """A decision taken on a build, shown on its message for good.

    Attributes:
        kind: ``distributed``, ``rolled_back`` or ``approved``.
        source: where it was taken (``button``, ``slash``, ``schedule``, ``queue``...).
    """

    kind: str
    actor_id: str
    at: datetime
    source: str


def _stays(rows: Sequence[ReleaseEvent]) -> list[LiveBuild]:
    """Group time-ordered ``live`` rows into stays on air (consecutive rows of one build)."""
    groups: list[list[ReleaseEvent]] = []
    for row in rows:
        if groups and groups[-1][0].upload_id == row.upload_id:
            groups[-1].append(row)
        else:
            groups.append([row])
    stays = []
    for group in groups:
        first = group[0]
        actor = next((r for r in group if r.actor_id), first)
        stays.append(
            LiveBuild(
                project_id=first.project_id,
                upload_id=first.upload_id,
                since=first.at,
                by=actor.actor_id,
                via=actor.via or VIA_PROVIDER,
                source=actor.source,
            )
        )
    return stays


def _stamp(row: ReleaseEvent) -> Stamp:
    if row.kind == APPROVED:
        kind = "approved"
    else:
        kind = "rolled_back" if row.via == VIA_ROLLBACK else "distributed"
    return Stamp(kind=kind, actor_id=row.actor_id or "", at=row.at, source=row.source)


class TimelineStore:
    """Writes and reads the release timeline (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._live_insert: Write | None = None

    async def record_live(
        self,
        project_id: str,
        upload_id: str,
        *,
        via: str,
        actor_id: str | None,
        source: str,
        at: datetime,
        detail: str | None = None,
    ) -> None:
        """Note that ``upload_id`` became the live build of ``project_id`` at ``at``."""
        await self._add(project_id, upload_id, LIVE, via, actor_id, source, at, detail)

    async def record_approval(
        self, project_id: str, upload_id: str, *, actor_id: str, source: str, at: datetime
    ) -> None:
        """Note that ``actor_id`` approved releasing ``upload_id``."""
        await self._add(project_id, upload_id, APPROVED, None, actor_id, source, at, None)

    def live_write(self, project_id: str, upload_id: str, at: datetime) -> Write:
        """A ``build.distributing`` webhook as a write for the intake's transaction.

        The same statement every time, so a batch of webhooks runs them as one executemany.
        """
        table = ReleaseEvent.__table__  # type: ignore[attr-defined]  # SQLModel table
        if self._live_insert is None:
            self._live_insert = Write(table.insert(), {})
        return Write(
            self._live_insert.statement,
            {
                "project_id": project_id,
                "upload_id": upload_id,
                "kind": LIVE,
                "via": VIA_PROVIDER,
                "actor_id": None,
                "source": SOURCE_WEBHOOK,
                "at": at,
                "detail": None,
            },
        )

    async def _add(
        self,
        project_id: str,
        upload_id: str,
        kind: str,
        via: str | None,
        actor_id: str | None,
        source: str,
        at: datetime,
        detail: str | None,
    ) -> None:
        async with self.db.session() as session:
            session.add(
                ReleaseEvent(
                    project_id=project_id,
                    upload_id=upload_id,
                    kind=kind,
                    via=via,
                    actor_id=actor_id,
                    source=source[:16],
                    at=at,
                    detail=detail,
                )
            )

    async def live_state(self, project_id: str) -> LiveState:
        """The live and previous live build of ``project_id``."""
        return (await self.live_states([project_id]))[project_id]

    async def live_states(self, project_ids: Iterable[str] | None = None) -> dict[str, LiveState]:
        """Live and previous live build per project (every project with a live row if None)."""
        wanted = None if project_ids is None else list(dict.fromkeys(project_ids))
        async with self.db.session() as session:
            if wanted is None:
                found = await session.exec(
                    select(ReleaseEvent.project_id).where(ReleaseEvent.kind == LIVE).distinct()
                )
                wanted = sorted(found.all())
            states: dict[str, LiveState] = {}
            for project_id in wanted:
                rows = await session.exec(
                    select(ReleaseEvent)
                    .where(ReleaseEvent.project_id == project_id, ReleaseEvent.kind == LIVE)
                    .order_by(col(ReleaseEvent.at).desc(), col(ReleaseEvent.id).desc())
                    .limit(LIVE_HISTORY)
                )
                stays = _stays(list(reversed(rows.all())))
                current = stays[-1] if stays else None
                previous = stays[-2] if len(stays) > 1 else None
                states[project_id] = LiveState(project_id, current, previous)
            return states

    async def stamps(self, project_id: str, upload_id: str) -> list[Stamp]:
        """The decisions taken on one build through the bot, oldest first."""
        async with self.db.session() as session:
            return await self._stamps(session, project_id, upload_id)

    async def decisions(self, project_id: str, upload_id: str) -> tuple[str | None, list[Stamp]]:
        """The project's last known name and the build's stamps, in one transaction."""
        async with self.db.session() as session:
            row = await session.get(ProjectName, project_id)
            stamps = await self._stamps(session, project_id, upload_id)
            return (None if row is None else row.name), stamps

    @staticmethod
    async def _stamps(session: AsyncSession, project_id: str, upload_id: str) -> list[Stamp]:
        rows = await session.exec(
            select(ReleaseEvent)
            .where(
                ReleaseEvent.project_id == project_id,
                ReleaseEvent.upload_id == upload_id,
                col(ReleaseEvent.actor_id).is_not(None),
            )
            .order_by(col(ReleaseEvent.at), col(ReleaseEvent.id))
        )
        return [_stamp(r) for r in rows.all()]

    # -- project names -----------------------------------------------------------

    async def remember_names(self, names: dict[str, str], at: datetime) -> None:
        """Store project names (id → name); safe when replicas store them at once."""
        if not names:
            return
        insert = self.db.insert(ProjectName)
        statement = insert.on_conflict_do_update(
            index_elements=["project_id"],
            set_={"name": insert.excluded.name, "updated_at": insert.excluded.updated_at},
        )
        rows = [
            {"project_id": pid, "name": name[:200], "updated_at": at} for pid, name in names.items()
        ]
        async with self.db.session() as session:
            connection = await session.connection()
            await connection.execute(statement, rows)

    async def project_names(self, project_ids: Iterable[str]) -> dict[str, str]:
        """The last known names of ``project_ids`` (unknown ones are left out)."""
        async with self.db.session() as session:
            rows = await session.exec(
                select(ProjectName).where(col(ProjectName.project_id).in_(list(project_ids)))
            )
            return {r.project_id: r.name for r in rows.all()}

    async def project_name(self, project_id: str) -> str | None:
        """The project's last known name."""
        async with self.db.session() as session:
            row = await session.get(ProjectName, project_id)
            return None if row is None else row.name
