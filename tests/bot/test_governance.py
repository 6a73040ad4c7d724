"""Governance rules over real storage: policies, votes, expiry, freezes, overrides."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bot.authz import Authorizer
from bot.errors import InvalidInput, NotAuthorized, UserFacingError
from bot.services.actor import Actor
from bot.services.freeze_window import parse_duration, parse_time, parse_window
from bot.services.governance import (
    Allowed,
    Approved,
    Frozen,
    Governance,
    NeedsApproval,
    Override,
    VoteRecorded,
)
from storage.approvals import ApprovalRequest, ApprovalStore
from storage.db import Database
from storage.freezes import ALL, Freeze, FreezeStore
from storage.roles import RoleStore
from tests.fakes import RecordingAuditor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADMIN, ALICE, BOB, CAROL, VIEWER = "UADMIN", "UALICE", "UBOB", "UCAROL", "UVIEW"


# -- the window parser -------------------------------------------------------------


def test_durations_add_their_parts() -> None:
    """2h, 90m, 1h30m, 3d and 1w read as expected."""
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("3D") == timedelta(days=3)
    assert parse_duration("1w") == timedelta(weeks=1)


@pytest.mark.parametrize("text", ["2", "h", "2x", "-2h", "0m", "2 h"])
def test_bad_durations_name_the_problem(text: str) -> None:
    """Anything but <number><unit> parts (or a zero length) is refused with the text."""
    with pytest.raises(InvalidInput, match=r"duration|no time"):
        parse_duration(text)


def test_iso_times_are_utc() -> None:
    """Z, offsets, naive times and bare dates all become aware UTC times."""
    assert parse_time("2026-12-24T18:00Z") == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    assert parse_time("2026-12-24T19:00+01:00") == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    assert parse_time("2026-12-24T18:00") == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    assert parse_time("2026-12-24") == datetime(2026, 12, 24, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="ISO 8601"):
        parse_time("tomorrow")


def test_windows_and_their_reason() -> None:
    """for/until/from windows; the words after them are the reason."""
    window = parse_window(["for", "2h", "launch", "day"], NOW)
    assert (window.starts_at, window.ends_at, window.rest) == (
        NOW,
        NOW + timedelta(hours=2),
        ["launch", "day"],
    )
    until = parse_window(["until", "2026-12-24T18:00Z", "x"], NOW)
    assert until.ends_at == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)
    later = parse_window(["from", "2026-12-02T00:00Z", "for", "1d", "x"], NOW)
    assert later.starts_at == datetime(2026, 12, 2, tzinfo=UTC)
    assert later.ends_at == datetime(2026, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (["launch"], "how long"),
        (["for"], "how long"),
        (["until", "2026-11-30T00:00Z", "x"], "in the past"),
        (["from", "2026-12-05T00:00Z", "until", "2026-12-04T00:00Z", "x"], "before it starts"),
        (["for", "100d", "x"], "at most"),
        (["from"], "needs a time"),
    ],
)
def test_bad_windows_name_the_problem(words: list[str], problem: str) -> None:
    """A missing, past, inverted or too long window is refused in words."""
    with pytest.raises(InvalidInput, match=problem):
        parse_window(words, NOW)


# -- the service -------------------------------------------------------------------


@dataclass
class RecordingNotices:
    """Notices kept in lists (what the outbox would carry)."""

    requests: list[ApprovalRequest] = field(default_factory=list)
    ended: list[Freeze] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)

    async def approval_changed(self, request: ApprovalRequest) -> None:
        self.requests.append(request)

    async def freeze_ended(self, freeze: Freeze) -> None:
        self.ended.append(freeze)

    async def override_used(self, override: Override) -> None:
        self.overrides.append(override)


@dataclass
class Setup:
    governance: Governance
    notices: RecordingNotices
    audit: RecordingAuditor
    clock: list[datetime]

    def advance(self, **delta: float) -> None:
        self.clock[0] += timedelta(**delta)


@pytest.fixture
async def setup(database: Database) -> Setup:
    roles = RoleStore(database)
    for user in (ALICE, BOB, CAROL):
        await roles.grant(user, "releaser", "test")
    clock = [NOW]
    notices, audit = RecordingNotices(), RecordingAuditor()
    governance = Governance(
        ApprovalStore(database),
        FreezeStore(database),
        Authorizer(frozenset({ADMIN}), roles),
        audit,
        notices,
        lambda: clock[0],
        approval_hours=24,
    )
    return Setup(governance, notices, audit, clock)


def actor(user_id: str, source: str = "button") -> Actor:
    return Actor(user_id=user_id, source=source, requested_at=NOW, channel_id="C1")  # type: ignore[arg-type]


async def two_person_request(s: Setup) -> ApprovalRequest:
    await s.governance.set_policy(actor(ADMIN), "p1", 2, None)
    decision = await s.governance.check("p1", "distribute", actor(ALICE), upload_id="u1")
    assert isinstance(decision, NeedsApproval)
    return await s.governance.request(
        actor(ALICE), "distribute", "p1", "Showroom", "u1", decision.policy
    )


async def test_no_policy_means_allowed(setup: Setup) -> None:
    """Without a policy or freeze every release is allowed as before."""
    decision = await setup.governance.check("p1", "distribute", actor(ALICE), upload_id="u1")
    assert decision == Allowed()


async def test_policy_is_for_admins_and_in_range(setup: Setup) -> None:
    """A releaser cannot set a policy; 4 approvals or an unknown role are refused."""
    with pytest.raises(NotAuthorized):
        await setup.governance.set_policy(actor(ALICE), "p1", 1, None)
    with pytest.raises(InvalidInput, match="0 to 3"):
        await setup.governance.set_policy(actor(ADMIN), "p1", 4, None)
    with pytest.raises(InvalidInput, match="releaser"):
        await setup.governance.set_policy(actor(ADMIN), "p1", 1, "media")
    assert (await setup.governance.policy("p1")).approvals == 0
    assert [(e.action, e.outcome) for e in setup.audit.events] == [("policy.set", "denied")]


async def test_two_approvers_release_once_and_the_run_is_recorded(setup: Setup) -> None:
    """Two other people approve; the second vote completes; check lets the run through once."""
    request = await two_person_request(setup)
    first = await setup.governance.approve(actor(BOB), request.id)
    assert isinstance(first, VoteRecorded) and first.request.voters == (BOB,)
    second = await setup.governance.approve(actor(CAROL), request.id)
    assert isinstance(second, Approved) and second.request.status == "approved"
    allowed = await setup.governance.check("p1", "distribute", actor(ALICE), upload_id="u1")
    assert isinstance(allowed, Allowed) and allowed.approval is not None
    again = await setup.governance.check("p1", "distribute", actor(ALICE), upload_id="u1")
    assert isinstance(again, NeedsApproval)
    done = await setup.governance.ran(allowed.approval, actor(CAROL), "ok", "Distributed")
    assert done.status == "done"
    steps = [e.params.get("step") for e in setup.audit.events if e.action == "approve"]
    assert steps == ["request", "vote", "vote", "run"]
    assert [r.status for r in setup.notices.requests] == ["pending", "pending", "approved", "done"]


async def test_requester_viewer_and_repeat_votes_are_refused(setup: Setup) -> None:
    """Self-approval, a viewer and a second vote by one person are refused and audited."""
    request = await two_person_request(setup)
    with pytest.raises(UserFacingError, match="cannot approve"):
        await setup.governance.approve(actor(ALICE), request.id)
    with pytest.raises(NotAuthorized, match="releasers and admins"):
        await setup.governance.approve(actor(VIEWER), request.id)
    await setup.governance.approve(actor(BOB), request.id)
    with pytest.raises(UserFacingError, match="counts once"):
        await setup.governance.approve(actor(BOB), request.id)
    current = await setup.governance.get(request.id)
    assert current.voters == (BOB,) and current.status == "pending"
    denied = [e.message for e in setup.audit.events if e.outcome == "denied"]
    assert denied == ["requester cannot approve", "not an approver (releasers and admins)",
                      "already approved"]  # fmt: skip


async def test_concurrent_final_votes_complete_once(setup: Setup) -> None:
    """Two approvers clicking at once on a one-approval request: exactly one Approved."""
    await setup.governance.set_policy(actor(ADMIN), "p1", 1, None)
    request = await setup.governance.request(
        actor(ALICE), "distribute", "p1", "Showroom", "u1", await setup.governance.policy("p1")
    )
    results = await asyncio.gather(
        setup.governance.approve(actor(BOB), request.id),
        setup.governance.approve(actor(CAROL), request.id),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Approved) for r in results) == 1


async def test_admin_only_policy_refuses_releasers(setup: Setup) -> None:
    """approvers=admin: a releaser is refused, an admin approves."""
    await setup.governance.set_policy(actor(ADMIN), "p1", 1, "admin")
    policy = await setup.governance.policy("p1")
    request = await setup.governance.request(
        actor(ALICE), "rollback", "p1", "Showroom", "u1", policy
    )
    with pytest.raises(NotAuthorized, match="only admins"):
        await setup.governance.approve(actor(BOB), request.id)
    assert isinstance(await setup.governance.approve(actor(ADMIN), request.id), Approved)


async def test_reject_needs_a_reason_and_ends_the_request(setup: Setup) -> None:
    """A rejection without reason is refused; with one the request ends and votes stop."""
    request = await two_person_request(setup)
    with pytest.raises(InvalidInput, match="reason"):
        await setup.governance.reject(actor(BOB), request.id, "  ")
    with pytest.raises(NotAuthorized):
        await setup.governance.reject(actor(VIEWER), request.id, "no")
    rejected = await setup.governance.reject(actor(BOB), request.id, "crashes on <load>")
    assert (rejected.status, rejected.decided_by, rejected.note) == (
        "rejected",
        BOB,
        "crashes on <load>",
    )
    with pytest.raises(UserFacingError, match="rejected"):
        await setup.governance.approve(actor(CAROL), request.id)


async def test_expiry_at_the_deadline_and_late_clicks_do_nothing(setup: Setup) -> None:
    """After 24 h the job expires the request once; a late approval changes nothing."""
    request = await two_person_request(setup)
    setup.advance(hours=23, minutes=59)
    assert await setup.governance.expire_due() == []
    setup.advance(minutes=1)
    [expired] = await setup.governance.expire_due()
    assert expired.id == request.id and expired.status == "expired"
    assert await setup.governance.expire_due() == []
    with pytest.raises(UserFacingError, match="expired"):
        await setup.governance.approve(actor(BOB), request.id)
    assert (await setup.governance.get(request.id)).voters == ()


async def test_a_click_after_the_deadline_expires_the_request_itself(setup: Setup) -> None:
    """Before the job runs, a late click still finds the request expired."""
    request = await two_person_request(setup)
    setup.advance(hours=25)
    with pytest.raises(UserFacingError, match="expired"):
        await setup.governance.approve(actor(BOB), request.id)
    assert setup.notices.requests[-1].status == "expired"


async def test_queued_run_goes_back_to_approved_and_runs_later(setup: Setup) -> None:
    """A busy slot puts the approved request back; the queued run's check takes it."""
    await setup.governance.set_policy(actor(ADMIN), "p1", 1, None)
    request = await setup.governance.request(
        actor(ALICE), "distribute", "p1", "Showroom", "u1", await setup.governance.policy("p1")
    )
    await setup.governance.approve(actor(BOB), request.id)
    first = await setup.governance.check("p1", "distribute", actor(ALICE), upload_id="u1")
    assert isinstance(first, Allowed) and first.approval is not None
    await setup.governance.ran(first.approval, actor(BOB), "queued", "queued for 12:02")
    queued = await setup.governance.check(
        "p1", "distribute", actor(ALICE, "scheduler"), upload_id="u1"
    )
    assert isinstance(queued, Allowed) and queued.approval is not None


async def test_freezes_refuse_releases_uploads_and_all_refuses_deletes(setup: Setup) -> None:
    """A project freeze refuses its releases; only a freeze on all refuses deletes."""
    g = setup.governance
    window = (NOW, NOW + timedelta(hours=2))
    await g.freeze(actor(ADMIN), "p1", "Showroom", *window, "launch")
    for action in ("distribute", "rollback", "upload"):
        assert isinstance(await g.check("p1", action, actor(ALICE), upload_id="u1"), Frozen)
    assert isinstance(await g.check("p2", "distribute", actor(ALICE), upload_id="u1"), Allowed)
    assert isinstance(await g.check(None, "delete", actor(ALICE)), Allowed)
    await g.freeze(actor(ADMIN), ALL, "all projects", *window, "holidays")
    assert isinstance(await g.check(None, "delete", actor(ALICE)), Frozen)
    decision = await g.check("p2", "distribute", actor(ALICE), upload_id="u1")
    assert isinstance(decision, Frozen) and decision.freeze.reason == "holidays"


async def test_freeze_is_for_admins_with_a_reason(setup: Setup) -> None:
    """A releaser cannot freeze; an admin must give a reason."""
    window = (NOW, NOW + timedelta(hours=2))
    with pytest.raises(NotAuthorized):
        await setup.governance.freeze(actor(ALICE), "p1", "Showroom", *window, "x")
    with pytest.raises(InvalidInput, match="reason"):
        await setup.governance.freeze(actor(ADMIN), "p1", "Showroom", *window, "")
    assert await setup.governance.current_freezes() == []


async def test_freeze_ends_by_itself_once_and_unfreeze_lifts(setup: Setup) -> None:
    """At its end the freeze is announced once; unfreeze lifts another at once."""
    g = setup.governance
    await g.freeze(actor(ADMIN), "p1", "Showroom", NOW, NOW + timedelta(hours=1), "a")
    await g.freeze(actor(ADMIN), "p2", "Other", NOW, NOW + timedelta(hours=5), "b")
    assert [f.project_id for f in await g.unfreeze(actor(ADMIN), "p2")] == ["p2"]
    setup.advance(hours=1)
    assert [f.project_id for f in await g.end_due_freezes()] == ["p1"]
    assert await g.end_due_freezes() == []
    assert [f.project_id for f in setup.notices.ended] == ["p1"]
    assert isinstance(await g.check("p1", "distribute", actor(ALICE), upload_id="u"), Allowed)
    actions = [e.action for e in setup.audit.events]
    assert actions == ["freeze", "freeze", "unfreeze", "freeze.end"]


async def test_override_lets_one_action_through_and_is_announced(setup: Setup) -> None:
    """An admin's override, with a reason, passes exactly that action; it is audited."""
    g = setup.governance
    await g.freeze(actor(ADMIN), "p1", "Showroom", NOW, NOW + timedelta(hours=2), "launch")
    with pytest.raises(NotAuthorized):
        await g.override(actor(ALICE), "distribute", "p1", "u1", "hotfix")
    with pytest.raises(InvalidInput, match="reason"):
        await g.override(actor(ADMIN), "distribute", "p1", "u1", " ")
    override = await g.override(actor(ADMIN), "distribute", "p1", "u1", "hotfix for crash")
    passed = await g.check("p1", "distribute", actor(ADMIN), upload_id="u1", override=override)
    assert isinstance(passed, Allowed)
    other = await g.check("p1", "distribute", actor(ADMIN), upload_id="u2", override=override)
    assert isinstance(other, Frozen)
    assert setup.notices.overrides == [override]
    assert [e.outcome for e in setup.audit.events if e.action == "freeze.override"] == [
        "denied",
        "ok",
    ]
