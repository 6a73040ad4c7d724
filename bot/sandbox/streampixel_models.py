"""Data of the Streampixel simulator: accounts, projects, builds, deliveries, constants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The documented limit on upload-file and distribute-file (separate counters).
RATE_LIMIT_SECONDS = 120.0
WEBHOOK_TIMEOUT = 10.0

#: Stages a build can be rejected at (P3).
FAILABLE_STAGES = ("downloading", "extracting", "saving")

#: The ``status`` each event carries (providers.md §1.4, P6).
EVENT_STATUS = {
    "build.uploaded": "pending",
    "build.downloading": "Downloading Files",
    "build.extracting": "Extracting & Scanning",
    "build.saving": "Saving to Repository",
    "build.distributing": "Distribute",
    "build.approved": "Approved",
    "build.rejected": "Reject",
    "webhook.test": "test",
}
BUILD_EVENTS = frozenset(e for e in EVENT_STATUS if e.startswith("build."))

DEMO_USER_ID = "663d0a1b2c3e4f5a6b7c8d9e"
DEMO_API_KEY = "spx_demo_4f9c2a7e1b3d5f60a8c9e2b4d6f8a0c1"
DEMO_READONLY_USER_ID = "663d0a1b2c3e4f5a6b7c8da0"
DEMO_READONLY_API_KEY = "spx_demo_readonly_7d1e3b5a9c2f4e6a"
DEMO_OTHER_USER_ID = "663d0a1b2c3e4f5a6b7c8d9f"
DEMO_OTHER_API_KEY = "spx_demo_other_0b2d4f6a8c1e3a5c"


class SimError(Exception):
    """A refusal the simulator answers with ``{"message": ...}`` and ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class StageTimings:
    """Seconds each pipeline stage takes (the real ones take minutes)."""

    downloading: float = 3.0
    extracting: float = 2.0
    saving: float = 1.0
    distributing: float = 2.0

    @classmethod
    def instant(cls) -> StageTimings:
        """No waiting at all (tests)."""
        return cls(0.0, 0.0, 0.0, 0.0)


@dataclass
class Account:
    """A user id, its current API key, and the projects it works on as a team member.

    READONLY keys may only read; team members reach the projects listed in
    ``member_of`` besides their own.
    """

    user_id: str
    api_key: str = field(repr=False)
    readonly: bool = False
    member_of: set[str] = field(default_factory=set)

    def can_reach(self, project: SimProject) -> bool:
        """The project is this user's own or one they are a member of."""
        return project.owner == self.user_id or project.id in self.member_of


@dataclass
class SimProject:
    """A project as the simulator keeps it."""

    id: str
    name: str
    owner: str
    enabled: bool = True
    subscription_status: str = "active"
    region: str = "asia-pacific"
    webhook_url: str | None = None
    webhook_events: frozenset[str] = BUILD_EVENTS
    live_users: int = 0
    queue_users: int = 0
    live_upload_id: str | None = None


@dataclass
class Upload:
    """One build submitted to a project."""

    id: str
    project_id: str
    file_url: str
    auto_release: bool
    status: str = "pending"
    objection: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook POST attempt.

    Attributes:
        status_code: the receiver's HTTP status, 0 when it could not be reached.
        error: the transport error's class name when there was one.
    """

    event: str
    url: str
    payload: dict[str, Any]
    status_code: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The receiver answered 2xx."""
        return 200 <= self.status_code < 300
