"""Release messages as outbox rows: a build message refresh, a scheduled run's report.

Storage owns these payloads because it persists them (JSON in ``outbox.payload``);
the delivery worker reads them back and hands them to the renderer.

- A **refresh** (:data:`BUILD_REFRESH`) re-renders a build's channel message in
  every channel that shows it, after a decision (a distribution or rollback
  through the bot): the message then carries the decision stamp, and so does every
  later re-render, since stamps are read from the release timeline each time.
- A **schedule report** (:data:`SCHEDULE_REPORT`) is a standalone message in the
  channel where the run was scheduled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from storage.db import Database
from storage.outbox import PENDING, OutboxRow
from storage.schedules import Schedule
from storage.webhooks import NotificationMessage

#: Re-render a build's message (not a pipeline step; no thread reply is a step of its own).
BUILD_REFRESH = "build.refresh"
#: A scheduled run ended (done, failed, refused, missed, handed to approvals).
SCHEDULE_REPORT = "build.schedule_report"

_DATES = ("due_at", "run_at", "created_at", "claimed_at", "finished_at")


def build_subject(upload_id: str) -> str:
    """The outbox subject key of a Streampixel build's message (as webhook intake writes it)."""
    return f"streampixel:{upload_id}"


def schedule_payload(schedule: Schedule, at: datetime) -> dict[str, Any]:
    """A schedule report as JSON (``at``: when it was found / ran)."""
    values = {
        k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(schedule).items()
    }
    return {"event": SCHEDULE_REPORT, "schedule": values, "at": at.isoformat()}


def schedule_from_payload(payload: Mapping[str, Any]) -> tuple[Schedule, datetime]:
    """Read back what :func:`schedule_payload` stored."""
    values = dict(payload["schedule"])
    for name in _DATES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(str(values[name]))
    return Schedule(**values), datetime.fromisoformat(str(payload["at"]))


class ReleaseNotices:
    """Writes release messages to the outbox."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def schedule_report(self, schedule: Schedule, at: datetime) -> None:
        """Queue the report of a scheduled run for the channel it was scheduled in."""
        await self._add(schedule.channel_id, "", schedule_payload(schedule, at), at)

    async def refresh_build(
        self, project_id: str, upload_id: str, *, actor_id: str, kind: str, at: datetime
    ) -> list[str]:
        """Queue a re-render of the build's message in every channel showing it.

        Returns:
            The channels (none when no channel has a message about the build yet).
        """
        subject = build_subject(upload_id)
        payload = {
            "event": BUILD_REFRESH,
            "provider": "streampixel",
            "subject": upload_id,
            "project": project_id,
            "actor_id": actor_id,
            "kind": kind,
            "timestamp": at.isoformat(),
        }
        async with self.db.session() as session:
            rows = await session.exec(
                select(NotificationMessage.channel).where(
                    NotificationMessage.subject_key == subject
                )
            )
            channels = sorted(rows.all())
        for channel in channels:
            await self._add(channel, subject, payload, at)
        return channels

    async def is_build_message(self, channel: str, ts: str) -> bool:
        """True when ``ts`` in ``channel`` is a build's notification message."""
        if not channel or not ts:
            return False
        async with self.db.session() as session:
            rows = await session.exec(
                select(NotificationMessage.subject_key)
                .where(
                    NotificationMessage.channel == channel,
                    NotificationMessage.ts == ts,
                    col(NotificationMessage.subject_key).startswith("streampixel:"),
                )
                .limit(1)
            )
            return rows.first() is not None

    async def _add(self, channel: str, subject: str, payload: dict[str, Any], at: datetime) -> None:
        async with self.db.session() as session:
            session.add(
                OutboxRow(
                    channel=channel,
                    subject_key=subject,
                    payload=json.dumps(payload, sort_keys=True),
                    status=PENDING,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
