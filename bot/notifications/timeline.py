"""The pipeline of one build, video or live session, as its Slack message shows it.

A :class:`Timeline` is rebuilt from JSON, gains one step per notification
(:meth:`Timeline.apply` ignores a step it already has) and is stored back.

**Manual release (autoRelease false).** The webhook does not say how a build
was uploaded. Following providers.md P1/P2, a ``build.approved`` that was *not*
preceded by ``build.distributing`` for the same uploadId is a manual release:
its message offers a Distribute button until a ``build.distributing`` arrives
(the rollout started, by our button or elsewhere). "Preceded" is judged from
every delivery received for the uploadId (``prior_events``, computed at
intake), not only from what one channel was sent, so a channel subscribed to
``approved`` alone still gets it right.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from bot.notifications.types import Notice

#: Rank of each step: the message shows the most advanced one, whatever the arrival order.
RANK = {
    "build.uploaded": 0,
    "build.downloading": 1,
    "build.extracting": 2,
    "build.saving": 3,
    "build.distributing": 4,
    "build.approved": 5,
    "build.rejected": 6,
    "media.uploaded": 0,
    "media.transcoded": 1,
    "media.published": 2,
    "media.failed": 3,
    "live.started": 0,
    "live.ended": 1,
}
#: Steps that go out to the whole channel as well as the thread.
BROADCAST = frozenset({"build.rejected", "media.failed"})


@dataclass
class Step:
    """One event in the pipeline."""

    event: str
    timestamp: str | None = None
    detail: str | None = None
    reconciled: bool = False
    """Found by reconciliation: no webhook reported this step."""


@dataclass
class Timeline:
    """What is known about one build (uploadId), video (uuid) or live session."""

    provider: str
    subject: str
    project: str | None = None
    title: str | None = None
    file_url: str | None = None
    player_url: str | None = None
    manual_release: bool = False
    steps: list[Step] = field(default_factory=list)

    @classmethod
    def start(cls, notification: Notice) -> Timeline:
        """An empty timeline for the subject of ``notification``."""
        return cls(provider=notification.provider, subject=str(notification.subject))

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        """Rebuild a timeline stored with :meth:`to_json`."""
        data = json.loads(text)
        steps = [Step(**s) for s in data.pop("steps", [])]
        return cls(**data, steps=steps)

    def to_json(self) -> str:
        """The timeline as JSON text."""
        return json.dumps(asdict(self), sort_keys=True)

    def events(self) -> list[str]:
        """The event names seen, in arrival order."""
        return [s.event for s in self.steps]

    def apply(self, notification: Notice) -> bool:
        """Add the step ``notification`` describes; False when it was already there."""
        event = notification.event
        timestamp = notification.timestamp
        for key in ("project", "title", "file_url", "player_url"):
            if getattr(notification, key):
                setattr(self, key, getattr(notification, key))
        if any(s.event == event and s.timestamp == timestamp for s in self.steps):
            return False
        if event == "build.approved":
            prior = set(notification.prior_events) | set(self.events())
            self.manual_release = "build.distributing" not in prior
        detail = notification.objection or notification.error
        reconciled = notification.reconciled
        self.steps.append(
            Step(event=event, timestamp=timestamp, detail=detail, reconciled=reconciled)
        )
        return True

    def current(self) -> Step:
        """The most advanced step (the latest of equal rank)."""
        return max(reversed(self.steps), key=lambda s: RANK.get(s.event, -1))

    def awaiting_distribution(self) -> bool:
        """True for an approved, manually released build whose rollout has not started."""
        events = self.events()
        return (
            self.manual_release
            and "build.approved" in events
            and "build.distributing" not in events
            and "build.rejected" not in events
        )
