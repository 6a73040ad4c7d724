"""Scheduled distributions and rollbacks: offer, confirm, list, cancel, and run when due.

``/build distribute <project> <uploadId> at 18:00`` (or ``rollback``) offers a
confirmed **Schedule** button; its click stores the run (:mod:`storage.schedules`).
When the run comes due, the schedule job (:mod:`bot.jobs.schedule_runner`)
claims it — exactly one replica does — and runs it through the *same* release
function as the Distribute button (:data:`ReleaseRun`, wired by the composition
root), as the requester: their role, the project's freezes and approval policy,
and the build's known state are checked again at that moment. Then:

- Streampixel accepted → ``done``;
- the distribute slot is busy → the run waits for it (pending again, due when
  the slot opens) and the next round takes it;
- refused (role, freeze, a build known to fail) → ``refused``, nothing sent;
- the project needs approvals → the approval request is posted in the
  scheduling channel and the schedule ends ``approval``: the release runs once
  the approvals are in, through the approval flow;
- Streampixel refused → ``failed``.

A run found more than ``grace`` late (no replica was up at its time) is not run:
it is reported ``missed``. Every end is reported through the outbox in the
channel where the run was scheduled, and audited (action ``schedule``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import InvalidInput, NotFound, ProviderError, UserFacingError
from bot.providers.streampixel import Project
from bot.services.actor import Actor, AuditTrail, Target
from bot.services.oneshot import AlreadyUsed, Button, OneShot
from bot.services.release_timeline import ReleaseRefused, ReleaseTimeline
from bot.services.schedule_time import parse_when
from storage.schedules import APPROVAL, DONE, FAILED, MISSED, REFUSED, Schedule, ScheduleStore

log = logging.getLogger("streamops.schedules")

PROVIDER = "streampixel"
#: A run left ``running`` this long by a vanished runner is ended as failed.
STALE_AFTER = timedelta(minutes=15)
RELEASE_ACTIONS = ("distribute", "rollback")

Clock = Callable[[], datetime]


class GateLike(Protocol):
    """Authorization with audited refusals (:class:`bot.services.actor.Gate`)."""

    def trail(self, actor: Actor) -> AuditTrail:
        """Where ``actor``'s attempts are audited."""
        ...

    async def check(self, trail: AuditTrail, permission: str, action: str, target: Target) -> None:
        """Let the actor through, or audit the refusal and raise NotAuthorized."""
        ...


# -- what one run of the release function came to ------------------------------------


@dataclass(frozen=True)
class Ran:
    """Streampixel accepted the distribution."""

    message: str


@dataclass(frozen=True)
class SlotWait:
    """The distribute slot is in use until ``until``."""

    until: datetime


@dataclass(frozen=True)
class Refused:
    """Refused before anything was sent (role, freeze, a build known to fail)."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """Streampixel refused, or the call failed."""

    message: str


@dataclass(frozen=True)
class AwaitingApproval:
    """The project needs approvals: request ``request_id`` was posted."""

    request_id: int
    needed: int


RunOutcome = Ran | SlotWait | Refused | Failed | AwaitingApproval
#: Runs one due schedule as its requester, through the release use case.
ReleaseRun = Callable[[Actor, Schedule], Awaitable[RunOutcome]]
#: Posts a schedule's end in its channel (through the outbox).
Report = Callable[[Schedule], Awaitable[None]]


# -- what the slash command and buttons get back ---------------------------------------


@dataclass(frozen=True)
class ScheduleOffer:
    """A scheduled run awaiting its confirmed click."""

    action: str
    project_id: str
    project_name: str
    upload_id: str
    when: datetime
    known: bool
    live_upload_id: str | None
    approvals_needed: int = 0


@dataclass(frozen=True)
class Scheduled:
    """A run stored by a confirmed Schedule click."""

    schedule: Schedule


class Schedules:
    """The schedule use cases (see the module docstring).

    Args:
        store: the stored runs.
        gate: authorization and the audit trail.
        timeline: what the bot knows of builds (refusals, names, live build).
        projects: resolves a project named in a command.
        once: one-shot button claims (the Schedule button runs once).
        clock: the current time.
        grace: how late a run may still start.
        runner: this replica's name on the runs it claims.
        wake: set when a run is stored, so the schedule job looks again.
        approvals_needed: how many approvals a project's releases need (governance).
    """

    def __init__(
        self,
        store: ScheduleStore,
        gate: GateLike,
        timeline: ReleaseTimeline,
        projects: Callable[[str], Awaitable[Project]],
        once: OneShot,
        clock: Clock,
        *,
        grace: timedelta,
        runner: str,
        wake: asyncio.Event,
        approvals_needed: Callable[[str], Awaitable[int]] | None = None,
    ) -> None:
        self.store = store
        self.gate = gate
        self.timeline = timeline
        self.projects = projects
        self.once = once
        self.clock = clock
        self.grace = grace
        self.runner = runner
        self.wake = wake
        self.approvals_needed = approvals_needed

    # -- scheduling ----------------------------------------------------------------

    async def offer(
        self, actor: Actor, action: str, project: str, upload_id: str, words: Sequence[str]
    ) -> ScheduleOffer:
        """What to offer for confirmation: ``action`` of the build at the time ``words`` name.

        Raises:
            NotAuthorized: the actor may not run ``action`` (audited).
            InvalidInput: the time is not understood, past, or too far ahead.
            ReleaseRefused: the build is known to fail (audited; nothing is stored).
        """
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "upload", upload_id, {"action": action})
        await self.gate.check(trail, f"build.{action}", "schedule", target)
        when = parse_when(words, self.clock())
        found = await self.projects(project)
        await self.timeline.remember_projects([found])
        pre = await self.timeline.preflight(found.id, upload_id, learn=True)
        if pre.refusal is not None:
            await trail.record("schedule", "denied", target, pre.refusal.reason)
            raise ReleaseRefused(action, upload_id, pre.refusal.reason)
        live = pre.live.current.upload_id if pre.live.current else None
        needed = await self.approvals_needed(found.id) if self.approvals_needed else 0
        return ScheduleOffer(action, found.id, found.name, upload_id, when, pre.known, live, needed)

    async def confirm(
        self,
        actor: Actor,
        action: str,
        project_id: str,
        upload_id: str,
        when: datetime,
        *,
        button: Button,
    ) -> Scheduled | AlreadyUsed:
        """Store the run offered by :meth:`offer` (the confirmed Schedule button; runs once).

        Raises:
            NotAuthorized: the actor may not run ``action`` (audited).
            InvalidInput: the time has passed meanwhile.
            ReleaseRefused: the build became known to fail (audited).
        """
        if action not in RELEASE_ACTIONS:
            raise InvalidInput("this button's value could not be read")
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "upload", upload_id, {"project_id": project_id, "action": action})
        await self.gate.check(trail, f"build.{action}", "schedule", target)
        if when <= self.clock():
            raise InvalidInput("that time has passed: schedule the run again")
        pre = await self.timeline.preflight(project_id, upload_id)
        if pre.refusal is not None:
            await trail.record("schedule", "denied", target, pre.refusal.reason)
            raise ReleaseRefused(action, upload_id, pre.refusal.reason)
        key = OneShot.key("schedule", f"{action}:{project_id}:{upload_id}", button)
        used = await self.once.take("schedule", key, actor.user_id)
        if used is not None:
            await trail.record("schedule", "denied", target, "button already used")
            return used
        name = await self.timeline.project_name(project_id) or project_id
        schedule = await self.store.create(
            project_id=project_id,
            project_name=name,
            upload_id=upload_id,
            action=action,
            requested_by=actor.user_id,
            channel_id=actor.channel_id,
            due_at=when,
            now=self.clock(),
        )
        await self.once.done(key, "ok", f"scheduled #{schedule.id}")
        await trail.record("schedule", "ok", _target(schedule, "create"), f"run #{schedule.id}")
        self.wake.set()
        return Scheduled(schedule)

    # -- listing and cancelling ----------------------------------------------------

    async def upcoming(self, project_id: str | None = None) -> list[Schedule]:
        """Runs not yet ended, soonest first (``/build scheduled``, the App Home)."""
        return await self.store.upcoming(project_id=project_id)

    async def cancel(self, actor: Actor, schedule_id: int) -> Schedule:
        """Cancel a pending run: its requester or an admin.

        Raises:
            NotFound: no such run.
            NotAuthorized: someone else's run, and not an admin (audited).
            UserFacingError: it already ran, was cancelled or is running.
        """
        trail = self.gate.trail(actor)
        schedule = await self.store.get(schedule_id)
        if schedule is None:
            raise NotFound(f"there is no scheduled run #{schedule_id}")
        target = _target(schedule, "cancel")
        if actor.user_id != schedule.requested_by:
            await self.gate.check(trail, "build.schedule.cancel_any", "schedule", target)
        cancelled = await self.store.cancel(schedule_id, by=actor.user_id, at=self.clock())
        if cancelled is None:
            current = await self.store.get(schedule_id)
            state = current.state if current else "gone"
            text = f"run #{schedule_id} is {state}: it can no longer be cancelled"
            await trail.record("schedule", "denied", target, text)
            raise UserFacingError(text)
        await trail.record("schedule", "ok", target, "cancelled")
        return cancelled

    # -- running -------------------------------------------------------------------

    async def run_due(self, release: ReleaseRun, report: Report) -> list[Schedule]:
        """Run (or mark missed) every due run once; report each one that ended.

        Returns:
            The runs that ended this round, in their final state.
        """
        ended: list[Schedule] = []
        for stale in await self.store.expire_stale(self.clock(), older_than=STALE_AFTER):
            await self._audit_end(stale)
            await report(stale)
            ended.append(stale)
        while (
            claimed := await self.store.claim_due(
                self.clock(), runner=self.runner, grace=self.grace
            )
        ) is not None:
            final = claimed if claimed.state == MISSED else await self._run(claimed, release)
            if final is None:  # waiting for the slot: pending again
                continue
            await self._audit_end(final)
            await report(final)
            ended.append(final)
        return ended

    async def _run(self, claimed: Schedule, release: ReleaseRun) -> Schedule | None:
        actor = Actor(
            user_id=claimed.requested_by,
            source="scheduler",
            requested_at=self.clock(),  # when it ran; who asked is the actor, when is in params
            channel_id=claimed.channel_id,
        )
        try:
            outcome = await release(actor, claimed)
        except ProviderError as exc:
            outcome = Failed(exc.message)
        except UserFacingError as exc:  # NotAuthorized, a freeze, a build known to fail
            outcome = Refused(str(exc))
        except Exception as exc:
            log.exception("scheduled run #%s failed", claimed.id)
            outcome = Failed(f"the bot could not run it ({type(exc).__name__})")
        if isinstance(outcome, SlotWait):
            await self.store.wait_for_slot(claimed.id, runner=self.runner, until=outcome.until)
            return None
        state, message = _final(outcome)
        ended = await self.store.finish(
            claimed.id, runner=self.runner, state=state, message=message, at=self.clock()
        )
        return ended or await self.store.get(claimed.id)

    async def _audit_end(self, schedule: Schedule) -> None:
        """A missed or interrupted run has no release row: audit it here."""
        if schedule.state != MISSED and not schedule.message.startswith("interrupted"):
            return
        actor = Actor(
            user_id=schedule.requested_by,
            source="scheduler",
            requested_at=self.clock(),
            channel_id=schedule.channel_id,
        )
        await self.gate.trail(actor).record(
            schedule.action, "failed", _target(schedule, schedule.state), schedule.message
        )


def _final(outcome: RunOutcome) -> tuple[str, str]:
    if isinstance(outcome, Ran):
        return DONE, outcome.message
    if isinstance(outcome, Refused):
        return REFUSED, outcome.reason
    if isinstance(outcome, AwaitingApproval):
        return APPROVAL, (
            f"needs {outcome.needed} approval(s): request #{outcome.request_id} was posted; "
            "it runs once approved"
        )
    if isinstance(outcome, Failed):
        return FAILED, outcome.message
    raise TypeError(outcome)


def _target(schedule: Schedule, step: str) -> Target:
    return Target(
        PROVIDER,
        "upload",
        schedule.upload_id,
        {
            "project_id": schedule.project_id,
            "schedule_id": schedule.id,
            "step": step,
            "requested_by": schedule.requested_by,
            "requested_at": schedule.created_at.isoformat(),
            "due_at": schedule.due_at.isoformat(),
        },
    )
