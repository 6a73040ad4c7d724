"""What outbox rows carry: notification types and their event names, defined once.

Storage owns these types because it persists them (as JSON in ``outbox.payload``);
the delivery worker reads them back and hands them to a renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Protocol

# -- event names, defined once ------------------------------------------------------

#: Streampixel events we post, in pipeline order (``webhook.test`` is a standalone message).
BUILD_EVENTS = (
    "build.uploaded",
    "build.downloading",
    "build.extracting",
    "build.saving",
    "build.distributing",
    "build.approved",
    "build.rejected",
)
#: StreamStack events we post, in pipeline order.
MEDIA_EVENTS = ("media.uploaded", "media.transcoded", "media.published", "media.failed")
#: StreamAPI live sessions, as the poller sees them start and end.
LIVE_STARTED = "live.started"
LIVE_ENDED = "live.ended"
LIVE_EVENTS = (LIVE_STARTED, LIVE_ENDED)
#: Streampixel's test event: the webhook reaches us.
WEBHOOK_TEST = "webhook.test"
#: A queued distribution's result, posted to the channel it was queued from.
QUEUED_RESULT = "build.queued_result"
#: The events each provider's notifications are routed by (what ``/streamops subscribe
#: … events=`` may name); results such as :data:`QUEUED_RESULT` go to a fixed channel.
PROVIDER_EVENTS: Mapping[str, tuple[str, ...]] = {
    "streampixel": (*BUILD_EVENTS, WEBHOOK_TEST),
    "streamstack": MEDIA_EVENTS,
    "streamapi": LIVE_EVENTS,
}


@dataclass(frozen=True)
class Notice:
    """One step of a build, video or live session (or Streampixel's ``webhook.test``).

    Attributes:
        provider: ``"streampixel"``, ``"streamstack"`` or ``"streamapi"``.
        event: one of the event names above (unknown ones are stored, not posted).
        subject: the build ``uploadId``, video uuid or live session key.
        project: the Streampixel ``projectId``.
        timestamp: as the provider sent it (ISO 8601).
        status, objection, file_url: Streampixel's fields.
        title, error, player_url, duration: StreamStack's (``title`` also for live sessions).
        reconciled: found by reconciliation, no webhook arrived.
        prior_events: the events already received about the same subject (set at intake).
    """

    provider: str
    event: str
    subject: str | None = None
    project: str | None = None
    timestamp: str | None = None
    status: str | None = None
    objection: str | None = None
    file_url: str | None = None
    title: str | None = None
    error: str | None = None
    player_url: str | None = None
    duration: float | None = None
    reconciled: bool = False
    prior_events: tuple[str, ...] = ()

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox (only the fields that are set)."""
        data = asdict(self)
        data["prior_events"] = list(self.prior_events)
        return {k: v for k, v in data.items() if v not in (None, False) or k in _ALWAYS}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Notice:
        """Read back what :meth:`to_payload` (or an older, untyped row) stored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in payload.items() if k in known}
        values["prior_events"] = tuple(values.get("prior_events") or ())
        values["reconciled"] = bool(values.get("reconciled"))
        return cls(**values)


_ALWAYS = frozenset({"provider", "event", "subject", "prior_events"})


class Notification(Protocol):
    """Anything the outbox can carry: it turns itself into a JSON-able payload with an event."""

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox (``event`` names the kind)."""
        ...


@dataclass(frozen=True)
class QueuedResult:
    """How a queued distribution (or rollback) ended.

    Attributes:
        outcome: ``"ok"`` or ``"failed"``.
        message: Streampixel's words (or ours).
        at: when it ran.
    """

    action: str
    project_id: str
    upload_id: str
    requested_by: str
    outcome: str
    message: str
    at: datetime

    event = QUEUED_RESULT

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox."""
        return {
            "provider": "streampixel",
            "event": QUEUED_RESULT,
            "action": self.action,
            "project": self.project_id,
            "subject": self.upload_id,
            "requested_by": self.requested_by,
            "outcome": self.outcome,
            "message": self.message,
            "timestamp": self.at.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> QueuedResult:
        """Read back what :meth:`to_payload` stored."""
        return cls(
            action=str(payload["action"]),
            project_id=str(payload["project"]),
            upload_id=str(payload["subject"]),
            requested_by=str(payload["requested_by"]),
            outcome=str(payload["outcome"]),
            message=str(payload["message"]),
            at=datetime.fromisoformat(str(payload["timestamp"])),
        )


#: A video delete that waited out its undo window, and how it ended.
DELETE_RESULT = "media.delete_result"


@dataclass(frozen=True)
class DeleteResult:
    """How a scheduled video delete ended, for the channel it was confirmed in.

    Attributes:
        outcome: ``"ok"`` or ``"failed"``.
        message: StreamStack's words when it failed.
        requested_at: when the delete was confirmed.
        at: when it ran.
    """

    uuid: str
    title: str
    requested_by: str
    outcome: str
    message: str
    requested_at: datetime
    at: datetime

    event = DELETE_RESULT

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox."""
        return {
            "provider": "streamstack",
            "event": DELETE_RESULT,
            "subject": self.uuid,
            "title": self.title,
            "requested_by": self.requested_by,
            "outcome": self.outcome,
            "message": self.message,
            "requested_at": self.requested_at.isoformat(),
            "timestamp": self.at.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> DeleteResult:
        """Read back what :meth:`to_payload` stored."""
        return cls(
            uuid=str(payload["subject"]),
            title=str(payload.get("title") or ""),
            requested_by=str(payload["requested_by"]),
            outcome=str(payload["outcome"]),
            message=str(payload.get("message") or ""),
            requested_at=datetime.fromisoformat(str(payload["requested_at"])),
            at=datetime.fromisoformat(str(payload["timestamp"])),
        )
