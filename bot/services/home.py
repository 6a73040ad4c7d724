"""The App Home dashboard's data, per user, and the admin's Retry of a failed notification.

:meth:`HomeService.home` gathers what one user may see into a :class:`Home` (plain view types,
no storage rows), which ``handlers/blocks/home.py`` renders. Sections whose feature is not there
(no live builds recorded yet, no governance tables...) are ``None`` and the renderer leaves them
out. Admins also get the operations view: webhook health per provider, the outbox backlog, failed
notifications (each with a Retry button) and the audit chain's state.

:meth:`HomeService.retry_delivery` is the Retry button's use case: authorize (admin) → re-queue
the failed notification once (a conditional update: a second click or replica finds nothing to
re-queue) → audit row → the result to show.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from bot.audit import Auditor
from bot.authz import Authorizer, Role
from bot.errors import NotAuthorized
from bot.jobs.tallies import TallyBuffer
from bot.services.governance import APPROVER_ROLES
from storage.approvals import ApprovalStore
from storage.audit import AuditLog
from storage.audit_events import AuditEvent, AuditFilters
from storage.audit_models import AuditEntry
from storage.builds import BuildStore
from storage.db import Database
from storage.freezes import FreezeStore
from storage.operations import Backlog, FailedDelivery, OperationsStore, ProviderHealth
from storage.schedules import ScheduleStore
from storage.timeline import TimelineStore

log = logging.getLogger("streamops.home")

_T = TypeVar("_T")

#: Webhook providers shown on the admin view (StreamAPI has no webhooks).
WEBHOOK_PROVIDERS = ("streampixel", "streamstack")
#: The window of the accepted / duplicate / refused counts.
HEALTH_WINDOW = timedelta(hours=24)
#: How many of each list the Home tab shows (Slack allows 100 blocks in all).
MAX_ROWS = 8
MY_ACTIONS = 10


@dataclass(frozen=True)
class LiveRow:
    """A project's live build."""

    project_name: str
    upload_id: str
    since: datetime
    via: str


@dataclass(frozen=True)
class FreezeRow:
    """An active or upcoming freeze."""

    project_name: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    active: bool


@dataclass(frozen=True)
class ApprovalRow:
    """A pending approval request, and whether this user may vote on it."""

    id: int
    action: str
    project_name: str
    upload_id: str
    requested_by: str
    votes: int
    needed: int
    expires_at: datetime
    may_vote: bool


@dataclass(frozen=True)
class PlannedRun:
    """A scheduled or queued distribution or rollback."""

    kind: str  # "scheduled" or "queued"
    action: str
    project: str
    upload_id: str
    run_at: datetime
    requested_by: str


@dataclass(frozen=True)
class ActionRow:
    """One of the user's own audited actions."""

    at: datetime
    action: str
    target: str | None
    outcome: str


@dataclass(frozen=True)
class AuditState:
    """The audit chain: rows, the last checkpoint, and the last verification if recorded."""

    rows: int
    checkpoint_at: datetime | None
    checkpoint_entry: int | None
    verified_ok: bool | None = None
    verified_at: datetime | None = None
    verify_detail: str = ""


@dataclass(frozen=True)
class Operations:
    """What only admins see."""

    health: list[ProviderHealth]
    backlog: Backlog
    failed: list[FailedDelivery]
    audit: AuditState | None


@dataclass(frozen=True)
class Home:
    """Everything the Home tab shows one user (None: the section's feature is absent)."""

    user_id: str
    is_admin: bool
    now: datetime
    live: list[LiveRow] | None = None
    freezes: list[FreezeRow] | None = None
    approvals: list[ApprovalRow] | None = None
    planned: list[PlannedRun] | None = None
    my_actions: list[ActionRow] = field(default_factory=list)
    operations: Operations | None = None


@dataclass(frozen=True)
class RetryResult:
    """What the Retry click did."""

    ok: bool
    message: str
    retried: FailedDelivery | None = None


#: The last audit verification: (intact, when, what it said), or None when none is recorded.
VerificationSource = Callable[[], Awaitable[tuple[bool, datetime, str] | None]]
#: The audit action under which verifications record their result (bot.services.audit_verify).
VERIFY_ACTION = "audit.verify"


class HomeService:
    """Builds the Home tab's data and runs its Retry button.

    Args:
        db: the shared database.
        authz: roles and permissions.
        audit: where Retry clicks are audited.
        clock: the current time, timezone-aware.
        verification: the last audit verification result; by default the newest
            ``audit.verify`` row of the audit log (its ``verified`` parameter).
        tallies: this replica's unwritten duplicate/refused counts, flushed before reading.
    """

    def __init__(
        self,
        db: Database,
        authz: Authorizer,
        audit: Auditor,
        *,
        clock: Callable[[], datetime],
        verification: VerificationSource | None = None,
        tallies: TallyBuffer | None = None,
    ) -> None:
        self.authz = authz
        self.audit = audit
        self.clock = clock
        self.verification = verification or self._last_verification
        self.tallies = tallies
        self.operations = OperationsStore(db)
        self.audit_log = AuditLog(db)
        self.timeline = TimelineStore(db)
        self.freezes = FreezeStore(db)
        self.approvals = ApprovalStore(db)
        self.schedules = ScheduleStore(db)
        self.builds = BuildStore(db)

    async def home(self, user_id: str) -> Home:
        """The Home tab of ``user_id`` (admin sections only for admins)."""
        now = self.clock()
        roles = await self.authz.roles_of(user_id)
        is_admin = Role.ADMIN in roles
        names: dict[str, str] = {}
        return Home(
            user_id=user_id,
            is_admin=is_admin,
            now=now,
            live=await self._section("live builds", lambda: self._live(names or {})),
            freezes=await self._section("freezes", lambda: self._freezes(now)),
            approvals=await self._section("approvals", lambda: self._approvals(user_id, roles)),
            planned=await self._section("schedules", lambda: self._planned(names or {})),
            my_actions=await self._section("my actions", lambda: self._my_actions(user_id)) or [],
            operations=await self._operations(now) if is_admin else None,
        )

    async def _section(self, name: str, load: Callable[[], Awaitable[_T]]) -> _T | None:
        """One section's data; None (the section is left out) when it cannot be read."""
        try:
            return await load()
        except Exception:  # one broken section must not blank the whole Home tab
            log.exception("home: the %s section could not be read", name)
            return None

    async def _live(self, names: dict[str, str]) -> list[LiveRow]:
        states = await self.timeline.live_states()
        if states:
            names = {**names, **await self.timeline.project_names(states)}
        rows = [
            LiveRow(names.get(pid, pid), s.current.upload_id, s.current.since, s.current.via)
            for pid, s in states.items()
            if s.current is not None
        ]
        return sorted(rows, key=lambda r: r.since, reverse=True)[:MAX_ROWS]

    async def _freezes(self, now: datetime) -> list[FreezeRow]:
        return [
            FreezeRow(f.project_name, f.reason, f.starts_at, f.ends_at, f.starts_at <= now)
            for f in (await self.freezes.current_and_upcoming(now))[:MAX_ROWS]
        ]

    async def _approvals(self, user_id: str, roles: set[Role]) -> list[ApprovalRow]:
        rows = []
        for request in await self.approvals.open_requests(limit=MAX_ROWS):
            if request.status != "pending":
                continue
            allowed = set(APPROVER_ROLES.get(request.approvers, APPROVER_ROLES["releaser"]))
            voters = {v.voter_id for v in request.votes}
            may_vote = (
                bool(roles & allowed) and user_id != request.requested_by and user_id not in voters
            )
            rows.append(
                ApprovalRow(
                    id=request.id,
                    action=request.action,
                    project_name=request.project_name,
                    upload_id=request.upload_id,
                    requested_by=request.requested_by,
                    votes=len(request.votes),
                    needed=request.needed,
                    expires_at=request.expires_at,
                    may_vote=may_vote,
                )
            )
        return rows

    async def _planned(self, names: dict[str, str]) -> list[PlannedRun]:
        runs = [
            PlannedRun("scheduled", s.action, s.project_name, s.upload_id, s.run_at, s.requested_by)
            for s in await self.schedules.upcoming(limit=MAX_ROWS)
        ]
        queued = await self.builds.queued(state="pending")
        if queued:
            names = {**names, **await self.timeline.project_names(q.project_id for q in queued)}
        runs += [
            PlannedRun(
                "queued",
                q.action,
                names.get(q.project_id, q.project_id),
                q.upload_id,
                q.run_at,
                q.requested_by,
            )
            for q in queued
        ]
        return sorted(runs, key=lambda r: r.run_at)[:MAX_ROWS]

    async def _my_actions(self, user_id: str) -> list[ActionRow]:
        page = await self.audit_log.query(AuditFilters(actor_id=user_id), limit=MY_ACTIONS)
        return [
            ActionRow(r.requested_at, r.action, r.target_id, r.outcome)
            for r in page.records[:MY_ACTIONS]
        ]

    async def _operations(self, now: datetime) -> Operations:
        if self.tallies is not None:  # this replica's latest counts too, not only flushed ones
            await self._section("tallies", self.tallies.flush)
        health = await self.operations.webhook_health(WEBHOOK_PROVIDERS, now, HEALTH_WINDOW)
        backlog = await self.operations.backlog()
        failed = await self.operations.failed_deliveries(limit=MAX_ROWS)
        audit = await self._section("audit state", self._audit_state)
        return Operations(health=health, backlog=backlog, failed=failed, audit=audit)

    async def _audit_state(self) -> AuditState:
        rows = await self.operations.count_rows(AuditEntry)
        checkpoint = await self.audit_log.latest_checkpoint()
        verified = await self.verification()
        return AuditState(
            rows=rows,
            checkpoint_at=checkpoint.created_at if checkpoint else None,
            checkpoint_entry=checkpoint.entry_id if checkpoint else None,
            verified_ok=verified[0] if verified else None,
            verified_at=verified[1] if verified else None,
            verify_detail=verified[2] if verified else "",
        )

    async def _last_verification(self) -> tuple[bool, datetime, str] | None:
        """The newest recorded verification of the chain (CLI, ``/audit verify``, daily check)."""
        page = await self.audit_log.query(AuditFilters(action=VERIFY_ACTION, outcome="ok"), limit=5)
        for record in page.records:
            try:
                params = json.loads(record.params or "{}")
            except ValueError:
                continue
            if isinstance(params, dict) and isinstance(params.get("verified"), bool):
                at = record.completed_at or record.requested_at
                return params["verified"], at, record.message
        return None

    # -- the Retry button --------------------------------------------------------

    async def retry_delivery(self, user_id: str, row_id: int) -> RetryResult:
        """Re-queue failed notification ``row_id`` once (admins only); audited either way."""
        now = self.clock()
        target = str(row_id)
        try:
            await self.authz.require(user_id, "events.view")
        except NotAuthorized as exc:
            await self._audit(user_id, now, "denied", target, None, str(exc))
            raise
        retried = await self.operations.retry_failed(row_id, now)
        if retried is None:
            message = f"notification {row_id} is not failed (already retried?)"
            await self._audit(user_id, now, "failed", target, None, message)
            return RetryResult(ok=False, message=message)
        message = (
            f"{retried.event} for {retried.subject or 'a test'} re-queued to <#{retried.channel}>"
        )
        await self._audit(user_id, now, "ok", target, retried, message)
        return RetryResult(ok=True, message=message, retried=retried)

    async def _audit(
        self,
        user_id: str,
        now: datetime,
        outcome: str,
        target: str,
        failed: FailedDelivery | None,
        message: str,
    ) -> None:
        await self.audit.record(
            AuditEvent(
                action="notification.retry",
                outcome=outcome,  # type: ignore[arg-type]  # one of ok / denied / failed
                actor_id=user_id,
                source="button",
                requested_at=now,
                completed_at=self.clock(),
                target_type="notification",
                target_id=target,
                channel_id=failed.channel if failed else "",
                params={"event": failed.event, "subject": failed.subject} if failed else {},
                message=message,
            )
        )


def pending_approval_ids(home: Home) -> Sequence[int]:
    """The ids of the approval requests shown (for tests and logs)."""
    return [a.id for a in home.approvals or []]
