"""What the audit jobs post to Slack through the outbox: witnessed heads and failed checks.

Storage owns these types because the outbox persists them (as JSON in
``outbox.payload``); the delivery worker reads them back and hands them to the
renderers in :mod:`handlers.blocks.audit_notices`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storage.audit_witness import WitnessHead

#: A checkpoint's signed head, published to the audit channel.
AUDIT_HEAD = "audit.head"
#: A scheduled verification that failed.
AUDIT_ALARM = "audit.verify_failed"


@dataclass(frozen=True)
class AuditHeadNotice:
    """A witnessed head for the audit channel."""

    head: WitnessHead

    event = AUDIT_HEAD

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox."""
        return {"event": AUDIT_HEAD, "head": self.head.to_json()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> AuditHeadNotice:
        """Read back what :meth:`to_payload` stored."""
        return cls(WitnessHead.from_json(str(payload["head"])))


@dataclass(frozen=True)
class AuditAlarm:
    """A verification that failed: what is wrong, where, and who should look.

    Attributes:
        problem: the one-word problem (``edited``, ``missing``...).
        first_bad: the first bad sequence number, if one is known.
        reason: the verifier's words.
        admins: Slack user ids to mention.
        at: when the check ran (canonical UTC text).
    """

    problem: str
    first_bad: int | None
    reason: str
    admins: tuple[str, ...]
    at: str

    event = AUDIT_ALARM

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form stored in the outbox."""
        return {
            "event": AUDIT_ALARM,
            "problem": self.problem,
            "first_bad": self.first_bad,
            "reason": self.reason,
            "admins": list(self.admins),
            "at": self.at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> AuditAlarm:
        """Read back what :meth:`to_payload` stored."""
        first_bad = payload.get("first_bad")
        return cls(
            problem=str(payload["problem"]),
            first_bad=None if first_bad is None else int(first_bad),
            reason=str(payload["reason"]),
            admins=tuple(str(admin) for admin in payload.get("admins", ())),
            at=str(payload["at"]),
        )
