"""``/build`` use cases: one function per user action, whatever the entry point.

Each action takes the :class:`~bot.services.actor.Actor` and runs, in order:
authorize → validate → claim (one-shot buttons) → rate slot → provider call →
audit row → a reply model (a dataclass the handler renders). The Distribute
and Rollback buttons *and* the queue runner all go through :meth:`Releases.release`,
so a rule written there (a role, a freeze, an approval) holds for each of them.

The Streampixel bookkeeping below the use cases (project names, the shared
rate slot, the stored queue) is :class:`bot.services.builds.BuildService`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.errors import ProviderError, UserFacingError
from bot.mrkdwn import code
from bot.providers.streampixel import PROVIDER, Project, UploadResult, UserStats
from bot.services.actor import Actor, Gate, Target
from bot.services.builds import BuildService, ProjectLine, QueuedRun, SlotBusy
from bot.services.governance import Frozen, Governance, NeedsApproval, Override
from bot.services.oneshot import AlreadyUsed, Button, OneShot
from bot.services.release_timeline import BuildsView, ReleaseRefused, ReleaseTimeline
from bot.services.release_view import RollbackChoices
from storage.approvals import ApprovalRequest
from storage.builds import Build, Queued
from storage.notifications import QueuedResult
from storage.outbox import OutboxStore
from storage.release_notices import ReleaseNotices

#: What the Distribute and Rollback buttons do; both are a Streampixel distribute call.
RELEASE_ACTIONS = ("distribute", "rollback")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Uploaded:
    """A build Streampixel accepted."""

    project: Project
    result: UploadResult
    file_url: str
    auto_release: bool
    actor_id: str


@dataclass(frozen=True)
class Offer:
    """What a distribute/rollback command offers to confirm.

    Attributes:
        upload_id: the build named in the command, or None for a rollback choice.
        known: the known builds to choose from (rollback without an id).
        choices: the rollback picker (rollback without an id).
        build_known: the bot has seen the named build (else the dialog says so).
        live_upload_id: the project's live build, if the bot knows it.
    """

    action: str
    project: Project
    upload_id: str | None
    known: list[Build]
    choices: RollbackChoices | None = None
    build_known: bool = True
    live_upload_id: str | None = None


@dataclass(frozen=True)
class Released:
    """A distribution (or rollback) Streampixel accepted."""

    action: str
    project_id: str
    upload_id: str
    actor_id: str
    at: datetime
    message: str
    on_notification: bool = False
    """The clicked button sat on the build's notification (re-rendered through the outbox)."""
    project_name: str | None = None
    """The project's name as last listed (None: never listed)."""


@dataclass(frozen=True)
class QueuedNotice:
    """A distribution stored to run when the slot opens."""

    action: str
    project_id: str
    upload_id: str
    actor_id: str
    run_at: datetime


@dataclass(frozen=True)
class ApprovalRequested:
    """The project's policy asks for approvals: a request was posted, nothing was sent."""

    request: ApprovalRequest


@dataclass(frozen=True)
class BuildsPage:
    """One page of a project's known builds."""

    project: Project
    builds: list[Build]
    page: int
    total: int
    view: BuildsView | None = field(default=None)


class Releases:
    """The ``/build`` use cases.

    Args:
        builds: Streampixel with the bot's bookkeeping (None-safe: it raises
            :class:`UserFacingError` when Streampixel is not configured).
        gate: authorization and the audit trail.
        once: one-shot button claims.
        outbox: where results for a channel go.
        clock: the current time.
        queue_signal: set when a distribution is queued, so the queue runner looks now.
        governance: approvals and freezes (:mod:`bot.services.governance`).
        timeline: the release timeline (live builds, refusals, decision stamps).
        notices: re-renders a build's messages after a decision (through the outbox).
    """

    def __init__(
        self,
        builds: Callable[[], BuildService],
        gate: Gate,
        once: OneShot,
        outbox: OutboxStore,
        clock: Clock,
        queue_signal: asyncio.Event,
        governance: Governance,
        timeline: ReleaseTimeline,
        notices: ReleaseNotices,
    ) -> None:
        self.timeline = timeline
        self.notices = notices
        self._builds = builds
        self.gate = gate
        self.once = once
        self.outbox = outbox
        self.clock = clock
        self.queue_signal = queue_signal
        self.governance = governance

    @property
    def builds(self) -> BuildService:
        """The build service (raises :class:`UserFacingError` when Streampixel is off)."""
        return self._builds()

    # -- reads -----------------------------------------------------------------

    async def overview(self, actor: Actor) -> list[ProjectLine]:
        """Every project with its live and queued users."""
        lines = await self.builds.overview()
        await self.timeline.remember_projects(line.project for line in lines)
        return lines

    async def users(self, actor: Actor, project: str) -> tuple[Project, UserStats]:
        """The named project and its live/queued users."""
        return await self.builds.users(project)

    async def builds_page(
        self, actor: Actor, project: str, *, page: int, per_page: int
    ) -> BuildsPage:
        """One page (from 1) of the named project's known builds, newest first."""
        found = await self.project(project)
        view = await self.timeline.page(found.id, page=page, per_page=per_page)
        return BuildsPage(found, [v.build for v in view.builds], page, view.total, view)

    async def project(self, text: str) -> Project:
        """The project ``text`` names; its name is kept for messages rendered later."""
        found = await self.builds.resolve_project(text)
        await self.timeline.remember_projects([found])
        return found

    # -- upload ----------------------------------------------------------------

    async def upload_choices(self, actor: Actor) -> list[Project]:
        """The projects the upload form offers, once the actor may upload (refusal audited)."""
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "build.upload", "upload", Target(PROVIDER, "project"))
        return await self.builds.api.list_projects()

    async def upload(
        self, actor: Actor, project: str, file_url: str, *, auto_release: bool
    ) -> Uploaded | SlotBusy:
        """Send a build (a .zip URL) to Streampixel if the account's upload slot is free.

        Raises:
            NotAuthorized: the actor is not a releaser (audited).
            ProviderError: Streampixel refused the build (audited as failed).
        """
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "build.upload", "upload", Target(PROVIDER, "project"))
        service = self.builds
        found = await service.resolve_project(project)
        params = {"file_url": file_url, "auto_release": auto_release}
        target = Target(PROVIDER, "project", found.id, params)
        if auto_release:
            decision = await self.governance.check(found.id, "upload", actor)
            if isinstance(decision, Frozen):
                raise await self.governance.refuse(
                    trail, decision, "upload", found.id, file_url, target
                )
        try:
            result = await service.upload(
                found, file_url, auto_release=auto_release, requested_by=actor.user_id
            )
        except ProviderError as exc:
            await trail.record("upload", "failed", target, exc.message)
            raise
        if isinstance(result, SlotBusy):
            text = (
                "Streampixel's upload slot for this account is in use; the next slot opens "
                f"at {result.next_at:%H:%M} UTC. Nothing was sent."
            )
            await trail.record("upload", "denied", target, text)
            return result
        await trail.record("upload", "ok", target, result.upload_id)
        return Uploaded(found, result, file_url, auto_release, actor.user_id)

    # -- distribute / rollback -------------------------------------------------

    async def offer(
        self, actor: Actor, action: str, project: str, upload_id: str | None, *, choices: int = 5
    ) -> Offer:
        """What to offer for confirmation: a named build, or ``choices`` known builds."""
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "upload", upload_id, {"action": action})
        await self.gate.check(trail, f"build.{action}", action, target)
        found = await self.project(project)
        if upload_id is None:
            picker = await self.timeline.rollback_choices(found.id, limit=choices)
            known = [v.build for v in ([picker.last_good] if picker.last_good else [])]
            known += [v.build for v in picker.others]
            live = picker.live.upload_id if picker.live else None
            return Offer(action, found, None, known, picker, live_upload_id=live)
        pre = await self.timeline.preflight(found.id, upload_id, learn=True)
        if pre.refusal is not None:
            await trail.record(action, "denied", target, pre.refusal.reason)
            raise ReleaseRefused(action, upload_id, pre.refusal.reason)
        live = pre.live.current.upload_id if pre.live.current else None
        return Offer(action, found, upload_id, [], None, pre.known, live)

    async def release(
        self,
        actor: Actor,
        action: str,
        project_id: str,
        upload_id: str,
        *,
        button: Button | None = None,
        override: Override | None = None,
        origin: str | None = None,
        audit_params: Mapping[str, object] | None = None,
    ) -> Released | SlotBusy | AlreadyUsed | ApprovalRequested | QueuedNotice:
        """Distribute (or roll back to) a build: the buttons, the queue and scheduled runs.

        A build the bot knows Streampixel would refuse (seen rejected or still
        processing, or of another project) is refused right after the role check:
        audited as denied, nothing sent, no approval asked, the distribute slot
        left free (:class:`~bot.services.release_timeline.ReleaseRefused`).

        Args:
            action: ``"distribute"`` or ``"rollback"``.
            button: the clicked one-shot button (None for a queued or scheduled run,
                whose row is already claimed by exactly one runner).
            override: an admin's override of a freeze for exactly this release.
            origin: how the decision stamp names the entry point (``schedule``,
                ``queue``); the actor's source by default.
            audit_params: more parameters for the audit row (a queued or scheduled
                run's requester and request time).

        Governance (:meth:`Governance.check`) comes right after the role: a freeze
        refuses (:class:`~bot.services.governance.FrozenError`, audited); a policy
        asking for approvals posts a request instead (:class:`ApprovalRequested`);
        the run of an approved request is reported back to it, and when the slot
        is busy it is queued at once (:class:`QueuedNotice`).

        Raises:
            NotAuthorized: the actor (the requester, for a queued run) lacks the role.
            ProviderError: Streampixel refused (audited as failed; the button is freed).
        """
        if action not in RELEASE_ACTIONS:
            raise UserFacingError(f"unknown build action {code(action)}")
        trail = self.gate.trail(actor)
        params = {"project_id": project_id, **(audit_params or {})}
        target = Target(PROVIDER, "upload", upload_id, params)
        await self.gate.check(trail, f"build.{action}", action, target)
        pre = await self.timeline.preflight(project_id, upload_id)
        if pre.refusal is not None:
            await trail.record(action, "denied", target, pre.refusal.reason)
            raise ReleaseRefused(action, upload_id, pre.refusal.reason)
        decision = await self.governance.check(
            project_id, action, actor, upload_id=upload_id, override=override
        )
        if isinstance(decision, Frozen):
            raise await self.governance.refuse(
                trail, decision, action, project_id, upload_id, target
            )
        key = None
        if button is not None:
            key = OneShot.key(action, f"{project_id}:{upload_id}", button)
            used = await self.once.take(action, key, actor.user_id)
            if used is not None:
                await trail.record(action, "denied", target, "button already used")
                return used
        if isinstance(decision, NeedsApproval):
            request = await self._request_approval(actor, action, project_id, upload_id, decision)
            if key is not None:
                await self.once.done(key, "ok", f"approval #{request.id} requested")
            return ApprovalRequested(request)
        approval = decision.approval
        try:
            result = await self.builds.distribute(project_id, upload_id)
        except BaseException as exc:
            if key is not None:  # nothing was distributed: the button may be tried again
                await self.once.free(key)
            if isinstance(exc, ProviderError):
                await trail.record(action, "failed", target, exc.message)
            if approval is not None:
                failed = isinstance(exc, ProviderError)
                words = exc.message if isinstance(exc, ProviderError) else "interrupted"
                await self.governance.ran(approval, actor, "failed" if failed else "queued", words)
            raise
        if isinstance(result, SlotBusy):
            if key is not None:
                await self.once.free(key)
            if actor.source != "scheduler":  # a queued run is rescheduled, not refused
                text = f"distribute slot in use until {result.next_at:%H:%M} UTC"
                await trail.record(action, "denied", target, text)
            if approval is not None:
                return await self._queue_approved(approval, actor, result)
            return result
        if key is not None:
            await self.once.done(key, "ok", result.message)
        await trail.record(action, "ok", target, result.message)
        if approval is not None:
            await self.governance.ran(approval, actor, "ok", result.message)
            await self._stamp_approvals(approval, project_id, upload_id)
        at = self.clock()
        await self.timeline.made_live(
            project_id,
            upload_id,
            action=action,
            actor_id=actor.user_id,
            source=origin or actor.source,
        )
        kind = "rolled_back" if action == "rollback" else "distributed"
        await self.notices.refresh_build(
            project_id, upload_id, actor_id=actor.user_id, kind=kind, at=at
        )
        on_notification = button is not None and await self.notices.is_build_message(
            button.channel_id, button.message_ts
        )
        return Released(
            action,
            project_id,
            upload_id,
            actor.user_id,
            at,
            result.message,
            on_notification,
            await self.timeline.timeline.project_name(project_id),
        )

    async def _stamp_approvals(
        self, approval: ApprovalRequest, project_id: str, upload_id: str
    ) -> None:
        """The approvers of a release that ran become stamps on the build's message."""
        full = await self.governance.approvals.get(approval.id) or approval
        for vote in full.votes:
            await self.timeline.timeline.record_approval(
                project_id, upload_id, actor_id=vote.voter_id, source="button", at=vote.voted_at
            )

    async def _request_approval(
        self,
        actor: Actor,
        action: str,
        project_id: str,
        upload_id: str,
        decision: NeedsApproval,
    ) -> ApprovalRequest:
        """Post an approval request for this release (names the project in words)."""
        try:
            name = (await self.builds.resolve_project(project_id)).name
        except (ProviderError, UserFacingError):
            name = project_id
        return await self.governance.request(
            actor, action, project_id, name, upload_id, decision.policy
        )

    async def _queue_approved(
        self, approval: ApprovalRequest, actor: Actor, busy: SlotBusy
    ) -> SlotBusy | QueuedNotice:
        """An approved release met a busy slot: it waits in the queue (once)."""
        if actor.source == "scheduler":  # already queued: the runner tries again
            await self.governance.ran(approval, actor, "queued", "the slot is still in use")
            return busy
        queued = await self.builds.queue(
            approval.project_id,
            approval.upload_id,
            action=approval.action,
            requested_by=approval.requested_by,
            channel_id=approval.channel_id,
        )
        self.queue_signal.set()
        await self.governance.ran(
            approval, actor, "queued", f"queued for {queued.run_at:%H:%M} UTC"
        )
        return QueuedNotice(
            approval.action, approval.project_id, approval.upload_id, actor.user_id, queued.run_at
        )

    # -- queue -----------------------------------------------------------------

    async def queue(
        self, actor: Actor, action: str, project_id: str, upload_id: str, *, button: Button
    ) -> QueuedNotice | AlreadyUsed:
        """Store a distribution to run when the distribute slot opens (a one-shot button)."""
        if action not in RELEASE_ACTIONS:
            raise UserFacingError("this button's value could not be read")
        trail = self.gate.trail(actor)
        params = {"project_id": project_id, "action": action}
        target = Target(PROVIDER, "upload", upload_id, params)
        await self.gate.check(trail, "build.queue", "queue", target)
        await self.gate.check(trail, f"build.{action}", "queue", target)
        service = self.builds
        key = OneShot.key("queue", f"{action}:{project_id}:{upload_id}", button)
        used = await self.once.take("queue", key, actor.user_id)
        if used is not None:
            await trail.record("queue", "denied", target, "button already used")
            return used
        queued = await service.queue(
            project_id,
            upload_id,
            action=action,
            requested_by=actor.user_id,
            channel_id=actor.channel_id,
        )
        await self.once.done(key, "ok", f"queued #{queued.id}")
        await trail.record("queue", "ok", target, f"run at {queued.run_at:%H:%M}")
        self.queue_signal.set()
        return QueuedNotice(action, project_id, upload_id, actor.user_id, queued.run_at)

    async def run_due(self) -> list[QueuedRun]:
        """Run every due queued distribution through :meth:`release`; report each one.

        The result goes to the requester's channel through the outbox, so a
        Slack outage delays it instead of losing it.
        """
        service = self.builds
        runs: list[QueuedRun] = []
        while (run := await service.run_next_due(self._run_queued)) is not None:
            runs.append(run)
            if run.outcome != "rescheduled":
                await self._report(run)
        return runs

    async def _run_queued(self, queued: Queued) -> Released | SlotBusy:
        actor = Actor(
            user_id=queued.requested_by,
            source="scheduler",
            requested_at=self.clock(),  # when it ran; the requester is the actor
            channel_id=queued.channel_id,
        )
        result = await self.release(
            actor,
            queued.action,
            queued.project_id,
            queued.upload_id,
            origin="queue",
            audit_params={
                "queued_id": queued.id,
                "requested_by": queued.requested_by,
                "requested_at": queued.created_at.isoformat(),
            },
        )
        if isinstance(result, ApprovalRequested):
            # The policy changed after it was queued: it now waits for its approvals.
            raise UserFacingError(f"approval #{result.request.id} requested before it runs")
        assert not isinstance(result, AlreadyUsed | QueuedNotice)  # no button: nothing claimed
        return result

    async def _report(self, run: QueuedRun) -> None:
        queued = run.queued
        await self.outbox.enqueue(
            queued.channel_id,
            QueuedResult(
                action=queued.action,
                project_id=queued.project_id,
                upload_id=queued.upload_id,
                requested_by=queued.requested_by,
                outcome="ok" if run.outcome == "ok" else "failed",
                message=run.message,
                at=self.clock(),
            ),
            self.clock(),
        )
