"""Release governance: approval policies (two-person rule) and freezes, as one API.

Every release path asks :meth:`Governance.check` before Streampixel is called
(the Distribute/Rollback buttons, a queued run, a scheduled run, an upload with
auto-release, a video delete)::

    decision = await governance.check(project_id, action, actor, upload_id=upload_id)
    match decision:
        case Frozen():         refuse with decision.freeze (reason, who, until when)
        case NeedsApproval():  post a request: await governance.request(...)
        case Allowed():        go on; if decision.approval, report the run with
                               await governance.ran(decision.approval, ...)

Rules:

* A project's policy (``/build policy``) says how many approvals (0-3) its
  distribute and rollback need and which role approves (``releaser``: releasers
  and admins; ``admin``: admins only).
* A request is approved by people other than the requester, each counted once;
  when the count is reached exactly one caller (across replicas) gets
  :class:`Approved` and runs the release, whose :meth:`check` then finds the
  approved request and lets exactly that release through once.
* A request expires at its deadline (``STREAMOPS_APPROVAL_HOURS``); a rejection
  (with a reason) ends it.
* While a freeze is in force on a project (or on all), its releases and
  auto-releasing uploads are refused; a freeze on all also refuses video
  deletes. An admin may override one action with a written reason.

Every request, vote, rejection, expiry and run is audited with action
``approve`` (``params.step`` says which), so ``/audit action=approve`` shows a
request's whole story; freezes are audited as ``freeze``, ``unfreeze``,
``freeze.end`` and ``freeze.override``. Channel messages (the request message,
updated in place; a freeze's end; an override) go through :class:`Notices`,
which the composition root backs with the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.audit import Auditor, Outcome
from bot.authz import Authorizer, Role
from bot.errors import InvalidInput, NotAuthorized, NotFound, UserFacingError
from bot.mrkdwn import code, esc
from bot.services.actor import Actor, AuditTrail, Target
from storage.approvals import (
    APPROVED,
    DONE,
    EXPIRED,
    FAILED,
    PENDING,
    REJECTED,
    RUNNING,
    ApprovalRequest,
    ApprovalStore,
    Policy,
)
from storage.freezes import ALL, Freeze, FreezeStore

Clock = Callable[[], datetime]

#: The actions governance rules apply to.
RELEASE_ACTIONS = ("distribute", "rollback")
GOVERNED_ACTIONS = (*RELEASE_ACTIONS, "upload", "delete")
#: Who may approve, by policy value.
APPROVER_ROLES = {"releaser": (Role.RELEASER, Role.ADMIN), "admin": (Role.ADMIN,)}
MAX_APPROVALS = 3
DEFAULT_APPROVAL_HOURS = 24.0
#: The audit action of every approval step.
AUDIT_APPROVE = "approve"
#: Actor id of the background job's audit rows.
JOB_ACTOR = "streamops"


# -- decisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """Go ahead. ``approval``: the approved request this run fulfils (report it with ran())."""

    approval: ApprovalRequest | None = None


@dataclass(frozen=True)
class Frozen:
    """Refused: ``freeze`` is in force (the latest-ending one, if several)."""

    freeze: Freeze


@dataclass(frozen=True)
class NeedsApproval:
    """The project's policy asks for approvals before this release."""

    policy: Policy


Decision = Allowed | Frozen | NeedsApproval


class FrozenError(UserFacingError):
    """An action refused by a freeze; carries what an override needs.

    Attributes:
        freeze: the freeze in force.
        action: the refused action.
        project_id: the project (None for a video delete).
        subject: the upload id or video uuid.
        may_override: True when the actor is an admin (offer the override).
    """

    def __init__(
        self,
        freeze: Freeze,
        action: str,
        project_id: str | None,
        subject: str,
        *,
        may_override: bool = False,
    ) -> None:
        super().__init__(freeze_refusal(freeze, action))
        self.freeze = freeze
        self.action = action
        self.project_id = project_id
        self.subject = subject
        self.may_override = may_override


def freeze_refusal(freeze: Freeze, action: str) -> str:
    """Why ``action`` was refused, in words (mrkdwn; the reason escaped)."""
    scope = "every project" if freeze.is_all else f"*{esc(freeze.project_name)}*"
    until = _date(freeze.until)
    return (
        f":snowflake: {action.capitalize()} refused: {scope} is frozen until {until} "
        f"by <@{freeze.frozen_by}>: {esc(freeze.reason)}. Nothing was sent."
    )


# -- results -----------------------------------------------------------------------


@dataclass(frozen=True)
class VoteRecorded:
    """An approval counted; more are needed."""

    request: ApprovalRequest


@dataclass(frozen=True)
class Approved:
    """The approval that completed the count: the caller runs the release now."""

    request: ApprovalRequest


@dataclass(frozen=True)
class FreezeSet:
    """A freeze stored by ``/streamops freeze``."""

    freeze: Freeze


@dataclass(frozen=True)
class Override:
    """An admin's override of one frozen action."""

    actor_id: str
    action: str
    project_id: str | None
    subject: str
    reason: str
    freeze: Freeze
    channel_id: str
    at: datetime


class Notices(Protocol):
    """Where governance messages for a channel go (the outbox, in the app)."""

    async def approval_changed(self, request: ApprovalRequest) -> None:
        """Post the request's message, or update it in place, from its current state."""
        ...

    async def freeze_ended(self, freeze: Freeze) -> None:
        """Tell the freeze's channel that it ended by itself."""
        ...

    async def override_used(self, override: Override) -> None:
        """Announce an admin's override in the channel it came from."""
        ...


class Governance:
    """Approval policies, approval requests and freezes (see the module docstring).

    Args:
        approvals: policies, requests and votes.
        freezes: freeze windows.
        authz: the role checker.
        audit: where events go.
        notices: channel messages (through the outbox).
        clock: the current time (timezone-aware; tests inject theirs).
        approval_hours: how long a request waits for its approvals.
    """

    def __init__(
        self,
        approvals: ApprovalStore,
        freezes: FreezeStore,
        authz: Authorizer,
        audit: Auditor,
        notices: Notices,
        clock: Clock,
        *,
        approval_hours: float = DEFAULT_APPROVAL_HOURS,
    ) -> None:
        self.approvals = approvals
        self.freezes = freezes
        self.authz = authz
        self.audit = audit
        self.notices = notices
        self.clock = clock
        self.approval_window = timedelta(hours=approval_hours)

    def _trail(self, actor: Actor) -> AuditTrail:
        return AuditTrail(self.audit, actor, self.clock)

    # -- the check every release path makes ------------------------------------------

    async def check(
        self,
        project_id: str | None,
        action: str,
        actor: Actor,
        *,
        upload_id: str | None = None,
        override: Override | None = None,
    ) -> Decision:
        """May ``actor`` run ``action`` on ``project_id`` now?

        Args:
            project_id: the Streampixel project (None for a video delete).
            action: ``distribute``, ``rollback``, ``upload`` (with auto-release) or ``delete``.
            upload_id: the build, for distribute/rollback.
            override: an admin's override of the freeze for exactly this action.

        Returns:
            :class:`Frozen`, :class:`NeedsApproval`, or :class:`Allowed` (with the
            approved request this run fulfils, which is then marked running:
            report how it ended with :meth:`ran`).
        """
        if action not in GOVERNED_ACTIONS:
            raise ValueError(f"not a governed action: {action!r}")
        now = self.clock()
        scope = None if action == "delete" else project_id
        frozen = await self.freezes.active(scope, now)
        if frozen and not _overrides(override, action, project_id, upload_id):
            return Frozen(frozen[0])
        if action not in RELEASE_ACTIONS or project_id is None or upload_id is None:
            return Allowed()
        policy = await self.approvals.policy(project_id)
        approved = await self.approvals.approved_for(project_id, upload_id, action, actor.user_id)
        if approved is not None and await self.approvals.move(
            approved.id, expected=APPROVED, to=RUNNING
        ):
            return Allowed(approved)
        if policy.approvals == 0:
            return Allowed()
        return NeedsApproval(policy)

    async def refuse(
        self,
        trail: AuditTrail,
        frozen: Frozen,
        action: str,
        project_id: str | None,
        subject: str,
        target: Target,
    ) -> FrozenError:
        """Audit a freeze refusal (``denied``); the error to raise for it."""
        freeze = frozen.freeze
        text = f"frozen until {freeze.until:%Y-%m-%d %H:%M} UTC by {freeze.frozen_by}"
        await trail.record(action, "denied", target, text)
        may_override = action in RELEASE_ACTIONS and await self.authz.allowed(
            trail.actor.user_id, "governance.override"
        )
        return FrozenError(freeze, action, project_id, subject, may_override=may_override)

    # -- policies --------------------------------------------------------------------

    async def policy(self, project_id: str) -> Policy:
        """The project's approval policy."""
        return await self.approvals.policy(project_id)

    async def set_policy(
        self, actor: Actor, project_id: str, approvals: int, approvers: str | None
    ) -> Policy:
        """Set how many approvals the project's releases need (admins only).

        Raises:
            NotAuthorized: the actor is not an admin (audited).
            InvalidInput: approvals outside 0-3, or an unknown approver role.
        """
        trail = self._trail(actor)
        target = Target("streampixel", "project", project_id, {"approvals": approvals})
        await self._require(trail, "governance.policy", "policy.set", target)
        if not 0 <= approvals <= MAX_APPROVALS:
            raise InvalidInput(f"approvals must be 0 to {MAX_APPROVALS}, not {approvals}")
        current = await self.approvals.policy(project_id)
        role = (approvers or current.approvers).lower()
        if role not in APPROVER_ROLES:
            raise InvalidInput(f"approvers must be `releaser` or `admin`, not {code(approvers)}")
        policy = await self.approvals.set_policy(
            project_id, approvals, role, by=actor.user_id, at=self.clock()
        )
        params = {"approvals": approvals, "approvers": role}
        await trail.record("policy.set", "ok", Target("streampixel", "project", project_id, params))
        return policy

    # -- requests and votes ----------------------------------------------------------

    async def request(
        self,
        actor: Actor,
        action: str,
        project_id: str,
        project_name: str,
        upload_id: str,
        policy: Policy,
        *,
        reason: str = "",
    ) -> ApprovalRequest:
        """Store an approval request, audit it and post its message in the actor's channel."""
        now = self.clock()
        request = await self.approvals.create(
            project_id=project_id,
            project_name=project_name,
            upload_id=upload_id,
            action=action,
            requested_by=actor.user_id,
            channel_id=actor.channel_id,
            reason=reason,
            needed=policy.approvals,
            approvers=policy.approvers,
            now=now,
            expires_at=now + self.approval_window,
        )
        text = f"{policy.approvals} approval(s) needed by {request.expires_at:%Y-%m-%d %H:%M} UTC"
        await self._trail(actor).record("approve", "ok", _target(request, "request"), text)
        await self.notices.approval_changed(request)
        return request

    async def approve(self, actor: Actor, request_id: int) -> VoteRecorded | Approved:
        """Count ``actor``'s approval; :class:`Approved` for the one vote that completes it.

        Raises:
            NotFound: no such request.
            Conflict-like UserFacingError: the request is over (expired, rejected,
                run), the actor asked for it, or already approved it (audited).
            NotAuthorized: the actor lacks the approver role (audited).
        """
        trail = self._trail(actor)
        request = await self._open(trail, request_id, "approve")
        target = _target(request, "vote")
        if actor.user_id == request.requested_by:
            await trail.record("approve", "denied", target, "requester cannot approve")
            raise UserFacingError(
                "you asked for this release, so you cannot approve it: someone else must"
            )
        await self._require_approver(trail, request, target)
        now = self.clock()
        if not await self.approvals.add_vote(request.id, actor.user_id, now):
            await trail.record("approve", "denied", target, "already approved")
            raise UserFacingError("you already approved this request; each person counts once")
        completed = await self.approvals.approve_if_complete(request.id, actor.user_id, now)
        current = await self._get(request.id)
        count = f"approval {len(current.votes)} of {current.needed}"
        await trail.record("approve", "ok", target, count)
        await self.notices.approval_changed(current)
        return Approved(current) if completed else VoteRecorded(current)

    async def reject(self, actor: Actor, request_id: int, reason: str) -> ApprovalRequest:
        """End a pending request with a reason (approvers, and the requester withdrawing).

        Raises:
            InvalidInput: no reason.
            NotAuthorized: the actor may not reject it (audited).
        """
        trail = self._trail(actor)
        request = await self._open(trail, request_id, "reject")
        target = _target(request, "reject")
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a rejection needs a reason")
        if actor.user_id != request.requested_by:
            await self._require_approver(trail, request, target)
        moved = await self.approvals.move(
            request.id,
            expected=PENDING,
            to=REJECTED,
            at=self.clock(),
            by=actor.user_id,
            note=reason,
        )
        if not moved:
            return await self._closed(trail, await self._get(request.id), "reject")
        await trail.record("approve", "ok", target, f"rejected: {reason}")
        current = await self._get(request.id)
        await self.notices.approval_changed(current)
        return current

    async def may_reject(self, actor: Actor, request_id: int) -> ApprovalRequest:
        """The request, if ``actor`` may reject it now (before the reason modal opens).

        Raises:
            UserFacingError: the request is over (audited).
            NotAuthorized: the actor is neither the requester nor an approver (audited).
        """
        trail = self._trail(actor)
        request = await self._open(trail, request_id, "reject")
        if actor.user_id != request.requested_by:
            await self._require_approver(trail, request, _target(request, "reject"))
        return request

    async def may_override(self, actor: Actor) -> None:
        """Let ``actor`` open the override form (the override itself is checked and audited).

        Raises:
            NotAuthorized: only admins may override a freeze.
        """
        if not await self.authz.allowed(actor.user_id, "governance.override"):
            raise NotAuthorized("only admins may override a freeze")

    async def ran(
        self, request: ApprovalRequest, actor: Actor, outcome: str, message: str
    ) -> ApprovalRequest:
        """Record how the approved run ended.

        Args:
            outcome: ``ok``, ``failed``, or ``queued`` (the slot was busy: the request
                goes back to approved and the queued run takes it up).
            message: Streampixel's words, or when the queued run happens.
        """
        if outcome == "queued":
            await self.approvals.move(request.id, expected=RUNNING, to=APPROVED, note=message)
        else:
            status = DONE if outcome == "ok" else FAILED
            await self.approvals.move(
                request.id, expected=RUNNING, to=status, at=self.clock(), note=message
            )
        audit_outcome: Outcome = "failed" if outcome == "failed" else "ok"
        await self._trail(actor).record(
            "approve", audit_outcome, _target(request, "run"), f"{outcome}: {message}"
        )
        current = await self._get(request.id)
        await self.notices.approval_changed(current)
        return current

    async def abandon(self, request: ApprovalRequest, actor: Actor, message: str) -> None:
        """End an approved request whose run was refused before it started (no-op otherwise)."""
        if not await self.approvals.move(
            request.id, expected=APPROVED, to=FAILED, at=self.clock(), note=message
        ):
            return
        await self._trail(actor).record("approve", "failed", _target(request, "run"), message)
        await self.notices.approval_changed(await self._get(request.id))

    async def expire_due(self) -> list[ApprovalRequest]:
        """Expire every pending request past its deadline (each once, across replicas)."""
        expired: list[ApprovalRequest] = []
        for request_id in await self.approvals.due_to_expire(self.clock()):
            request = await self._expire(request_id)
            if request is not None:
                expired.append(request)
        return expired

    async def open_requests(self) -> list[ApprovalRequest]:
        """Requests waiting for approvals or for their run (for the App Home)."""
        return await self.approvals.open_requests()

    async def get(self, request_id: int) -> ApprovalRequest:
        """One request with its votes.

        Raises:
            NotFound: no such request.
        """
        return await self._get(request_id)

    # -- freezes ---------------------------------------------------------------------

    async def freeze(
        self,
        actor: Actor,
        project_id: str,
        project_name: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
    ) -> FreezeSet:
        """Freeze a project (``project_id`` :data:`~storage.freezes.ALL` for all); admins only.

        Raises:
            NotAuthorized: not an admin (audited).
            InvalidInput: no reason, or a window that does not end in the future.
        """
        trail = self._trail(actor)
        params = {"ends_at": ends_at.isoformat(), "starts_at": starts_at.isoformat()}
        target = Target("streampixel", "project", project_id, params)
        await self._require(trail, "governance.freeze", "freeze", target)
        reason = reason.strip()
        if not reason:
            raise InvalidInput("a freeze needs a reason, e.g. `launch weekend`")
        now = self.clock()
        if ends_at <= now or ends_at <= starts_at:
            raise InvalidInput("the freeze must end in the future, after it starts")
        freeze = await self.freezes.add(
            project_id=project_id,
            project_name=project_name,
            reason=reason,
            frozen_by=actor.user_id,
            channel_id=actor.channel_id,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
        )
        await trail.record("freeze", "ok", target, reason)
        return FreezeSet(freeze)

    async def unfreeze(self, actor: Actor, project_id: str) -> list[Freeze]:
        """Lift the freezes on a project (or on all) now; admins only. The freezes lifted."""
        trail = self._trail(actor)
        target = Target("streampixel", "project", project_id)
        await self._require(trail, "governance.freeze", "unfreeze", target)
        lifted = await self.freezes.lift(project_id, by=actor.user_id, now=self.clock())
        await trail.record("unfreeze", "ok", target, f"{len(lifted)} freeze(s) lifted")
        return lifted

    async def current_freezes(self) -> list[Freeze]:
        """Active and upcoming freezes, soonest first (everyone may see them)."""
        return await self.freezes.current_and_upcoming(self.clock())

    async def end_due_freezes(self) -> list[Freeze]:
        """Announce (once, across replicas) every freeze that ran out."""
        ended = await self.freezes.take_ended(self.clock())
        for freeze in ended:
            job = Actor(user_id=JOB_ACTOR, source="scheduler", requested_at=self.clock(),
                        channel_id=freeze.channel_id)  # fmt: skip
            target = Target("streampixel", "project", freeze.project_id, {"freeze_id": freeze.id})
            await self._trail(job).record("freeze.end", "ok", target, freeze.reason)
            await self.notices.freeze_ended(freeze)
        return ended

    async def override(
        self, actor: Actor, action: str, project_id: str | None, subject: str, reason: str
    ) -> Override:
        """An admin's written override of the freeze on one action; audited and announced.

        Returns:
            The override to hand to :meth:`check` (through the release call).

        Raises:
            NotAuthorized: not an admin (audited).
            InvalidInput: no reason, or nothing is frozen for that action.
        """
        trail = self._trail(actor)
        params = {"action": action, "subject": subject, "reason": reason.strip()}
        target = Target("streampixel", "project", project_id, params)
        await self._require(trail, "governance.override", "freeze.override", target)
        if not reason.strip():
            raise InvalidInput("an override needs a written reason")
        frozen = await self.freezes.active(None if action == "delete" else project_id, self.clock())
        if not frozen:
            raise InvalidInput("nothing is frozen for that any more; run the action again")
        override = Override(
            actor.user_id, action, project_id, subject, reason.strip(), frozen[0],
            actor.channel_id, self.clock(),
        )  # fmt: skip
        await trail.record("freeze.override", "ok", target, reason.strip())
        if actor.channel_id:
            await self.notices.override_used(override)
        return override

    # -- helpers ---------------------------------------------------------------------

    async def _require(
        self, trail: AuditTrail, permission: str, action: str, target: Target
    ) -> None:
        try:
            await self.authz.require(trail.actor.user_id, permission)
        except NotAuthorized as exc:
            await trail.record(action, "denied", target, str(exc))
            raise

    async def _require_approver(
        self, trail: AuditTrail, request: ApprovalRequest, target: Target
    ) -> None:
        roles = await self.authz.roles_of(trail.actor.user_id)
        allowed = APPROVER_ROLES.get(request.approvers, APPROVER_ROLES["releaser"])
        if not roles.intersection(allowed):
            who = "releasers and admins" if request.approvers == "releaser" else "admins"
            await trail.record("approve", "denied", target, f"not an approver ({who})")
            raise NotAuthorized(
                f"only {who} may approve or reject this request; "
                f"ask an admin for the *{request.approvers}* role"
            )

    async def _get(self, request_id: int) -> ApprovalRequest:
        request = await self.approvals.get(request_id)
        if request is None:
            raise NotFound(f"approval request #{request_id} does not exist")
        return request

    async def _open(self, trail: AuditTrail, request_id: int, verb: str) -> ApprovalRequest:
        """The request if it still takes votes; expires it first if its deadline passed."""
        request = await self._get(request_id)
        if request.status == PENDING and request.expires_at <= self.clock():
            request = await self._expire(request.id) or await self._get(request.id)
        if request.status != PENDING:
            await self._closed(trail, request, verb)
        return request

    async def _closed(
        self, trail: AuditTrail, request: ApprovalRequest, verb: str
    ) -> ApprovalRequest:
        await trail.record(
            "approve", "denied", _target(request, verb), f"request is {request.status}"
        )
        raise UserFacingError(
            f"this request is already over ({_STATE_WORDS[request.status]}); nothing was done"
        )

    async def _expire(self, request_id: int) -> ApprovalRequest | None:
        now = self.clock()
        if not await self.approvals.move(
            request_id, expected=PENDING, to=EXPIRED, at=now, by=JOB_ACTOR, note="deadline passed"
        ):
            return None
        request = await self._get(request_id)
        job = Actor(
            user_id=JOB_ACTOR, source="scheduler", requested_at=now, channel_id=request.channel_id
        )
        text = f"expired with {len(request.votes)} of {request.needed} approvals"
        await self._trail(job).record("approve", "ok", _target(request, "expire"), text)
        await self.notices.approval_changed(request)
        return request


_STATE_WORDS = {
    PENDING: "waiting for approvals",
    APPROVED: "approved",
    RUNNING: "approved and running",
    DONE: "approved and run",
    FAILED: "approved, but the run failed",
    REJECTED: "rejected",
    EXPIRED: "expired",
}


def state_words(status: str) -> str:
    """A request status in words."""
    return _STATE_WORDS.get(status, status)


def _target(request: ApprovalRequest, step: str) -> Target:
    params = {
        "step": step,
        "request_id": request.id,
        "project_id": request.project_id,
        "action": request.action,
    }
    return Target("streampixel", "upload", request.upload_id, params)


def _overrides(
    override: Override | None, action: str, project_id: str | None, subject: str | None
) -> bool:
    if override is None:
        return False
    return (
        override.action == action
        and override.project_id == project_id
        and (subject is None or override.subject == subject)
    )


def _date(moment: datetime) -> str:
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


__all__ = [
    "ALL",
    "APPROVED",
    "DONE",
    "EXPIRED",
    "FAILED",
    "PENDING",
    "REJECTED",
    "RUNNING",
    "Allowed",
    "ApprovalRequest",
    "Approved",
    "Decision",
    "Freeze",
    "Frozen",
    "FrozenError",
    "Governance",
    "NeedsApproval",
    "Notices",
    "Override",
    "Policy",
    "VoteRecorded",
]
