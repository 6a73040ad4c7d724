"""Approval and freeze repositories: one winner per status change, windows in UTC."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from storage.approvals import APPROVED, EXPIRED, PENDING, RUNNING, ApprovalStore
from storage.db import Database
from storage.freezes import ALL, FreezeStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _request(store: ApprovalStore, needed: int = 2) -> int:
    created = await store.create(
        project_id="p1",
        project_name="Showroom <Demo>",
        upload_id="u1",
        action="distribute",
        requested_by="UREQ",
        channel_id="C1",
        reason="",
        needed=needed,
        approvers="releaser",
        now=NOW,
        expires_at=NOW + timedelta(hours=24),
    )
    return created.id


async def test_policy_defaults_to_none_and_is_replaced(database: Database) -> None:
    """No row means no approvals; setting twice keeps the last policy."""
    store = ApprovalStore(database)
    assert (await store.policy("p1")).approvals == 0
    await store.set_policy("p1", 2, "releaser", by="UADMIN", at=NOW)
    await store.set_policy("p1", 1, "admin", by="UADMIN2", at=NOW + timedelta(minutes=1))
    policy = await store.policy("p1")
    assert (policy.approvals, policy.approvers, policy.updated_by) == (1, "admin", "UADMIN2")
    assert policy.updated_at == NOW + timedelta(minutes=1)


async def test_each_voter_counts_once(database: Database) -> None:
    """A second approval by the same person is not stored."""
    store = ApprovalStore(database)
    request_id = await _request(store)
    assert await store.add_vote(request_id, "UA", NOW)
    assert not await store.add_vote(request_id, "UA", NOW)
    request = await store.get(request_id)
    assert request is not None and request.voters == ("UA",)
    assert not await store.approve_if_complete(request_id, "UA", NOW)
    assert (await store.get(request_id)).status == PENDING  # type: ignore[union-attr]


async def test_concurrent_final_votes_approve_exactly_once(database: Database) -> None:
    """Many voters at once: every vote counts, and one caller moves the request on."""
    store = ApprovalStore(database)
    request_id = await _request(store, needed=2)

    async def vote(voter: str) -> bool:
        await store.add_vote(request_id, voter, NOW)
        return await store.approve_if_complete(request_id, voter, NOW)

    results = await asyncio.gather(*(vote(f"U{i}") for i in range(6)))
    assert results.count(True) == 1
    request = await store.get(request_id)
    assert request is not None and request.status == APPROVED and len(request.voters) == 6
    assert request.decided_by in request.voters


async def test_approved_request_is_found_once_taken(database: Database) -> None:
    """approved_for finds the approved release; moving it to running takes it out."""
    store = ApprovalStore(database)
    request_id = await _request(store, needed=1)
    assert await store.approved_for("p1", "u1", "distribute", "UREQ") is None
    await store.add_vote(request_id, "UA", NOW)
    assert await store.approve_if_complete(request_id, "UA", NOW)
    found = await store.approved_for("p1", "u1", "distribute", "UREQ")
    assert found is not None and found.id == request_id
    assert await store.approved_for("p1", "u1", "rollback", "UREQ") is None
    assert await store.move(request_id, expected=APPROVED, to=RUNNING)
    assert not await store.move(request_id, expected=APPROVED, to=RUNNING)
    assert await store.approved_for("p1", "u1", "distribute", "UREQ") is None


async def test_expiry_finds_only_overdue_pending_requests(database: Database) -> None:
    """A request is due to expire at its deadline, and expires once."""
    store = ApprovalStore(database)
    request_id = await _request(store)
    assert await store.due_to_expire(NOW + timedelta(hours=23)) == []
    assert await store.due_to_expire(NOW + timedelta(hours=24)) == [request_id]
    assert await store.move(request_id, expected=PENDING, to=EXPIRED, at=NOW)
    assert not await store.move(request_id, expected=PENDING, to=EXPIRED, at=NOW)
    assert await store.due_to_expire(NOW + timedelta(hours=25)) == []
    assert await store.open_requests() == []


async def test_open_requests_carry_their_votes(database: Database) -> None:
    """The pending list (for the App Home) shows each request's approvals."""
    store = ApprovalStore(database)
    first, second = await _request(store), await _request(store)
    await store.add_vote(second, "UB", NOW)
    listed = await store.open_requests()
    assert [(r.id, r.voters) for r in listed] == [(first, ()), (second, ("UB",))]
    assert listed[0].project_name == "Showroom <Demo>"


async def _freeze(store: FreezeStore, project_id: str, start: int, end: int) -> int:
    freeze = await store.add(
        project_id=project_id,
        project_name="all projects" if project_id == ALL else project_id,
        reason="launch",
        frozen_by="UADMIN",
        channel_id="C1",
        starts_at=NOW + timedelta(hours=start),
        ends_at=NOW + timedelta(hours=end),
        now=NOW,
    )
    return freeze.id


async def test_active_freezes_cover_their_window_and_all(database: Database) -> None:
    """A project freeze covers its project; an all-freeze covers every project and deletes."""
    store = FreezeStore(database)
    project = await _freeze(store, "p1", 0, 2)
    everything = await _freeze(store, ALL, 1, 3)
    assert [f.id for f in await store.active("p1", NOW)] == [project]
    assert await store.active("p2", NOW) == []
    assert await store.active(None, NOW) == []
    later = NOW + timedelta(hours=1, minutes=30)
    assert [f.id for f in await store.active("p1", later)] == [everything, project]
    assert [f.id for f in await store.active(None, later)] == [everything]
    assert await store.active("p1", NOW + timedelta(hours=3)) == []
    upcoming = await store.current_and_upcoming(NOW)
    assert [f.id for f in upcoming] == [project, everything]
    assert upcoming[0].starts_at == NOW and upcoming[0].ends_at.tzinfo is not None


async def test_lift_ends_a_freeze_now_and_it_is_not_announced_again(database: Database) -> None:
    """unfreeze ends the project's freezes at once; the end job then skips them."""
    store = FreezeStore(database)
    await _freeze(store, "p1", 0, 2)
    lifted = await store.lift("p1", by="UADMIN2", now=NOW + timedelta(minutes=5))
    assert [(f.ended_by, f.until) for f in lifted] == [("UADMIN2", NOW + timedelta(minutes=5))]
    assert await store.active("p1", NOW + timedelta(minutes=6)) == []
    assert await store.lift("p1", by="UADMIN2", now=NOW + timedelta(minutes=7)) == []
    assert await store.take_ended(NOW + timedelta(hours=5)) == []


async def test_ended_freezes_are_announced_once_across_callers(database: Database) -> None:
    """Two replicas looking for ended freezes at once announce each one once."""
    store = FreezeStore(database)
    freeze_id = await _freeze(store, "p1", 0, 1)
    assert await store.take_ended(NOW) == []
    taken = await asyncio.gather(*(store.take_ended(NOW + timedelta(hours=1)) for _ in range(4)))
    assert [f.id for batch in taken for f in batch] == [freeze_id]


async def test_request_messages_are_snapshots_in_row_order(database: Database) -> None:
    """Concurrent votes each queue a snapshot; the last row shows every vote."""
    from storage.governance_notices import GovernanceOutbox, approval_from_payload
    from storage.outbox import OutboxStore

    store, outbox = ApprovalStore(database), GovernanceOutbox(database)
    request_id = await _request(store, needed=3)

    async def vote(voter: str) -> None:
        await store.add_vote(request_id, voter, NOW)
        await outbox.approval_changed(request_id, NOW)

    await asyncio.gather(*(vote(f"U{i}") for i in range(5)))
    rows = await OutboxStore(database).rows(channel="C1")
    assert {r.subject_key for r in rows} == {f"approval:{request_id}"}
    snapshots = [approval_from_payload(json.loads(r.payload)) for r in rows]
    counts = [len(s.votes) for s in snapshots]
    assert counts == sorted(counts) and counts[-1] == 5
    assert snapshots[-1].project_name == "Showroom <Demo>"
    assert snapshots[-1].expires_at == NOW + timedelta(hours=24)


async def test_freeze_payloads_round_trip(database: Database) -> None:
    """A freeze stored in a standalone outbox row reads back equal."""
    from storage.governance_notices import (
        FREEZE_ENDED,
        GovernanceOutbox,
        freeze_from_payload,
        freeze_payload,
    )
    from storage.outbox import OutboxStore

    freezes = FreezeStore(database)
    freeze_id = await _freeze(freezes, "p1", 0, 1)
    [freeze] = await freezes.active("p1", NOW)
    await GovernanceOutbox(database).standalone("C1", freeze_payload(FREEZE_ENDED, freeze), NOW)
    [row] = await OutboxStore(database).rows(channel="C1")
    assert row.subject_key == "" and freeze_from_payload(json.loads(row.payload)) == freeze
    assert freeze.id == freeze_id
