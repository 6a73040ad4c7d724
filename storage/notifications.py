"""What outbox rows carry: notification types and their event names, defined once.

Storage owns these types because it persists them (as JSON in ``outbox.payload``);
the delivery worker reads them back and hands them to a renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

#: A queued distribution's result, posted to the channel it was queued from.
QUEUED_RESULT = "build.queued_result"
#: Streampixel's test event: the webhook reaches us.
WEBHOOK_TEST = "webhook.test"


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
