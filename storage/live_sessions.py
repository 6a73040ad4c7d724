"""StreamAPI live sessions already announced, so restarts and replicas post each change once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.notifications import LIVE_ENDED, LIVE_STARTED, Notice
from storage.outbox import OutboxRow, OutboxStore
from storage.subscriptions import routes_for
from storage.timeutil import UTCDateTime

PROVIDER = "streamapi"


class LiveSessionSeen(SQLModel, table=True):
    """One live session (host and start) and whether its end was announced."""

    __tablename__ = "live_sessions_seen"

    session_id: str = Field(primary_key=True, max_length=128)
    title: str = Field(max_length=300)
    went_live_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class LiveNow:
    """A session the provider lists as live."""

    session_id: str
    title: str


class LiveSessionStore:
    """Turns successive live lists into went-live / ended outbox rows, once each."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def sync(
        self, live: Sequence[LiveNow], now: datetime, *, default_channel: str | None
    ) -> list[tuple[str, str]]:
        """Record the sessions live now; queue a notification for each start and end.

        A session is announced as started by exactly one caller (a unique-key
        insert) and as ended by exactly one (a conditional update), so pollers
        on several replicas, or before and after a restart, do not double-post.

        Returns:
            ``(event, session_id)`` for each notification queued.
        """
        queued: list[tuple[str, str]] = []
        async with self.db.session() as session:
            for item in live:
                statement = (
                    self.db.insert(LiveSessionSeen)
                    .values(session_id=item.session_id, title=item.title, went_live_at=now)
                    .on_conflict_do_nothing(index_elements=["session_id"])
                    .returning(col(LiveSessionSeen.session_id))
                )
                if (await session.exec(statement)).scalar_one_or_none() is not None:
                    queued.append((LIVE_STARTED, item.session_id))
                    await self._queue(
                        session, LIVE_STARTED, item.session_id, item.title, now, default_channel
                    )
            live_ids = {item.session_id for item in live}
            open_rows = await session.exec(
                select(LiveSessionSeen).where(col(LiveSessionSeen.ended_at).is_(None))
            )
            for row in list(open_rows.all()):
                if row.session_id in live_ids:
                    continue
                result = await session.exec(
                    update(LiveSessionSeen)
                    .where(
                        col(LiveSessionSeen.session_id) == row.session_id,
                        col(LiveSessionSeen.ended_at).is_(None),
                    )
                    .values(ended_at=now)
                )
                if result.rowcount:
                    queued.append((LIVE_ENDED, row.session_id))
                    await self._queue(
                        session, LIVE_ENDED, row.session_id, row.title, now, default_channel
                    )
        return queued

    async def _queue(
        self,
        session: AsyncSession,
        event: str,
        session_id: str,
        title: str,
        now: datetime,
        default_channel: str | None,
    ) -> None:
        routes = await routes_for(session, [(PROVIDER, None)])
        channels = routes.deliver_to(PROVIDER, None, event, default_channel)
        notice = Notice(
            provider=PROVIDER,
            event=event,
            subject=session_id,
            title=title,
            timestamp=now.isoformat(),
        )
        payload = json.dumps(notice.to_payload(), sort_keys=True)
        subject_key = f"{PROVIDER}:{session_id}"
        for channel in channels:
            session.add(
                OutboxRow(**OutboxStore.row_values(channel, payload, now, subject_key=subject_key))
            )
