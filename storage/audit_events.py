"""The audit event and filter types the audit log persists and queries by.

They live in ``storage`` because the repository (:mod:`storage.audit`) stores
and selects by them; :mod:`bot.audit` re-exports them for features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, get_args

Outcome = Literal["ok", "denied", "failed"]
Source = Literal["slash_command", "button", "modal", "cli", "scheduler", "webhook"]

OUTCOMES: tuple[str, ...] = get_args(Outcome)
SOURCES: tuple[str, ...] = get_args(Source)


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One thing that was done, refused or failed, as features report it.

    Attributes:
        action: what was attempted, e.g. ``"distribute"`` or ``"role.grant"``.
        outcome: ``"ok"``, ``"denied"`` (refused by us) or ``"failed"`` (an error).
        actor_id: the Slack user id (or ``"cli:<login>"``, ``"scheduler"``).
        source: where the request came from.
        requested_at: when the request arrived (timezone-aware).
        completed_at: when it finished, if it did.
        actor_name: the actor's display name at the time.
        team_id: the Slack workspace.
        channel_id: the Slack channel the request came from.
        provider: ``"streampixel"``, ``"streamstack"``, ``"streamapi"`` or None.
        target_type: ``"project"``, ``"upload"``, ``"video"``, ``"host"``, ``"user"``...
        target_id: the project id, uploadId, video uuid, host id...
        params: the request parameters; secret-named keys are scrubbed on storage.
        message: the provider's or our own message about the outcome.
        correlation_id: links the row to the Slack request and notification message.
    """

    action: str
    outcome: Outcome
    actor_id: str
    source: Source
    requested_at: datetime
    completed_at: datetime | None = None
    actor_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    provider: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    message: str = ""
    correlation_id: str = ""

    def __post_init__(self) -> None:
        if not self.action:
            raise ValueError("an audit event needs an action")
        if not self.actor_id:
            raise ValueError("an audit event needs an actor_id")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {self.source!r}")
        for name in ("requested_at", "completed_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, kw_only=True)
class AuditFilters:
    """What to select from the audit log; every field is optional.

    ``since`` is inclusive and ``until`` exclusive, both on ``requested_at``.
    ``page`` counts from 1.
    """

    actor_id: str | None = None
    action: str | None = None
    provider: str | None = None
    target: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1

    def with_page(self, page: int) -> AuditFilters:
        """The same filters on another page."""
        return replace(self, page=max(1, page))

    def as_text(self) -> str:
        """Filter text that :func:`parse_filters` turns back into these filters."""
        parts = []
        for key, value in (
            ("user", self.actor_id),
            ("action", self.action),
            ("provider", self.provider),
            ("target", self.target),
            ("outcome", self.outcome),
        ):
            if value is not None:
                parts.append(f"{key}={value}")
        for key, moment in (("since", self.since), ("until", self.until)):
            if moment is not None:
                parts.append(f"{key}={moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}")
        if self.page != 1:
            parts.append(f"page={self.page}")
        return " ".join(parts)
