"""What the bot can tell about a build before sending it to Streampixel (pure).

From the known builds (:mod:`storage.builds`) and the live state
(:mod:`storage.timeline`): whether a build is approved, rejected or still
processing; which builds a rollback may offer; whether a distribute or rollback
is known to fail (then it is refused here, without spending the Streampixel
slot); and whether the bot knows the build at all (the confirm dialog says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.builds import Build
from storage.timeline import LiveBuild, LiveState


class Readiness(StrEnum):
    """Where a build stands in Streampixel's pipeline, as far as the bot has heard."""

    APPROVED = "approved"
    REJECTED = "rejected"
    PROCESSING = "processing"


#: Pipeline statuses (the webhook ``status`` field, or the event name) per readiness.
_APPROVED = {"approved", "distribute", "distributing"}
_REJECTED = {"reject", "rejected"}


def readiness(build: Build) -> Readiness:
    """The build's readiness from its last pipeline status."""
    status = (build.last_status or "").strip().casefold()
    if status in _APPROVED:
        return Readiness.APPROVED
    if status in _REJECTED:
        return Readiness.REJECTED
    return Readiness.PROCESSING


@dataclass(frozen=True)
class BuildView:
    """A known build with its live marks.

    Attributes:
        live: it is the project's live build (``live_since`` tells since when, ``live_by`` who).
        previous_live: it was live just before the live one.
    """

    build: Build
    readiness: Readiness
    live: LiveBuild | None = None
    previous_live: LiveBuild | None = None

    @property
    def upload_id(self) -> str:
        """The build's upload id."""
        return self.build.upload_id


def views(builds: Sequence[Build], state: LiveState | None) -> list[BuildView]:
    """Each build with its readiness and live marks."""
    current = state.current if state else None
    previous = state.previous if state else None
    return [
        BuildView(
            build=b,
            readiness=readiness(b),
            live=current if current and current.upload_id == b.upload_id else None,
            previous_live=previous if previous and previous.upload_id == b.upload_id else None,
        )
        for b in builds
    ]


def can_roll_back_to(view: BuildView) -> bool:
    """A rollback may offer it: approved, with a file URL, and not the live build."""
    return view.readiness is Readiness.APPROVED and bool(view.build.file_url) and view.live is None


@dataclass(frozen=True)
class RollbackChoices:
    """What ``/build rollback <project>`` offers.

    Attributes:
        live: the live build, if known (never offered).
        last_good: the previous live build, offered first when it can be rolled back to.
        others: the other approved builds with a file URL, newest first.
    """

    live: LiveBuild | None
    last_good: BuildView | None
    others: list[BuildView]


def rollback_choices(
    builds: Sequence[Build], state: LiveState | None, *, limit: int
) -> RollbackChoices:
    """The previous live build first (when eligible), then other eligible builds, newest first.

    Rejected, unprocessed and live builds are never offered.
    """
    marked = views(builds, state)
    eligible = [v for v in marked if can_roll_back_to(v)]
    last_good = next((v for v in eligible if v.previous_live is not None), None)
    others = [v for v in eligible if v is not last_good]
    room = max(limit - (1 if last_good else 0), 0)
    return RollbackChoices(state.current if state else None, last_good, others[:room])


@dataclass(frozen=True)
class Refusal:
    """Why the bot will not send a distribute/rollback it knows Streampixel would refuse.

    Attributes:
        reason: plain text (it quotes provider words: escape it before showing it as mrkdwn).
    """

    reason: str


def known_to_fail(
    project_id: str, upload_id: str, here: Build | None, elsewhere: Sequence[Build]
) -> Refusal | None:
    """A refusal when the build is known rejected, still processing, or of another project.

    Args:
        project_id: the project the action names.
        upload_id: the build it names.
        here: the build as known in ``project_id`` (None if unknown there).
        elsewhere: builds with that upload id known in other projects.
    """
    if here is None:
        if elsewhere:
            return Refusal(
                f"build {upload_id} belongs to another project ({elsewhere[0].project_id}), "
                "not this one"
            )
        return None
    state = readiness(here)
    if state is Readiness.REJECTED:
        why = f": {here.objection}" if here.objection else ""
        return Refusal(f"Streampixel rejected build {upload_id}{why}")
    if state is Readiness.PROCESSING:
        status = here.last_status or "pending"
        return Refusal(
            f"build {upload_id} is still being processed by Streampixel (last status: "
            f"{status}); it can be distributed once approved"
        )
    return None
