"""Approval policies per project, approval requests and their votes.

Three tables:

- ``approval_policies``: how many approvals a project's distribute or rollback
  needs, and which role may give them (no row: none needed).
- ``approval_requests``: one requested distribute/rollback waiting for votes,
  with its status (``pending`` → ``approved`` → ``running`` → ``done`` /
  ``failed``; or ``rejected`` / ``expired``) and deadline.
- ``approval_votes``: one row per approver and request (the primary key makes
  each approver count once, across replicas).

Every status change is a conditional ``UPDATE … WHERE status = <expected>``,
so of several concurrent callers (double clicks, two replicas) exactly one
moves a request on. SQLite hands datetimes back naive; every value read is
returned as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field, SQLModel, col, select

from storage.db import Database
from storage.timeutil import UTCDateTime

PENDING = "pending"
APPROVED = "approved"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
REJECTED = "rejected"
EXPIRED = "expired"
#: Statuses after which nothing more happens to a request.
FINAL = frozenset({DONE, FAILED, REJECTED, EXPIRED})

DEFAULT_APPROVERS = "releaser"


class ApprovalPolicyRow(SQLModel, table=True):
    """How many approvals a project's releases need, and who may approve."""

    __tablename__ = "approval_policies"

    project_id: str = Field(primary_key=True, max_length=64)
    approvals: int
    approvers: str = Field(max_length=16)
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ApprovalRequestRow(SQLModel, table=True):
    """A distribute or rollback waiting for approvals."""

    __tablename__ = "approval_requests"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=64)
    project_name: str = Field(max_length=200)
    upload_id: str = Field(max_length=64)
    action: str = Field(max_length=16)
    requested_by: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    reason: str = Field(default="", sa_type=Text)
    needed: int
    approvers: str = Field(max_length=16)
    status: str = Field(default=PENDING, max_length=16, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", sa_type=Text)


class ApprovalVoteRow(SQLModel, table=True):
    """One approver's approval of one request."""

    __tablename__ = "approval_votes"

    request_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("approval_requests.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    voter_id: str = Field(primary_key=True, max_length=64)
    voted_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True)
class Policy:
    """A project's approval policy (``approvals == 0``: releases run at once)."""

    project_id: str
    approvals: int = 0
    approvers: str = DEFAULT_APPROVERS
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Vote:
    """One approval as read back."""

    voter_id: str
    voted_at: datetime


@dataclass(frozen=True)
class ApprovalRequest:
    """An approval request with its votes, as read back (times in UTC)."""

    id: int
    project_id: str
    project_name: str
    upload_id: str
    action: str
    requested_by: str
    channel_id: str
    reason: str
    needed: int
    approvers: str
    status: str
    created_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str
    votes: tuple[Vote, ...] = ()

    @property
    def is_final(self) -> bool:
        """True once the request was run, failed, rejected or expired."""
        return self.status in FINAL

    @property
    def voters(self) -> tuple[str, ...]:
        """Who approved, in order."""
        return tuple(v.voter_id for v in self.votes)


def to_request(row: ApprovalRequestRow, votes: list[ApprovalVoteRow]) -> ApprovalRequest:
    assert row.id is not None
    return ApprovalRequest(
        id=row.id,
        project_id=row.project_id,
        project_name=row.project_name,
        upload_id=row.upload_id,
        action=row.action,
        requested_by=row.requested_by,
        channel_id=row.channel_id,
        reason=row.reason,
        needed=row.needed,
        approvers=row.approvers,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=None if row.decided_at is None else row.decided_at,
        note=row.note,
        votes=tuple(
            Vote(v.voter_id, v.voted_at)
            for v in sorted(votes, key=lambda v: (v.voted_at, v.voter_id))
        ),
    )


class ApprovalStore:
    """Reads and changes approval policies, requests and votes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- policies ------------------------------------------------------------

    async def policy(self, project_id: str) -> Policy:
        """The project's policy (no approvals needed when none was set)."""
        async with self.db.session() as session:
            row = await session.get(ApprovalPolicyRow, project_id)
        if row is None:
            return Policy(project_id)
        return Policy(project_id, row.approvals, row.approvers, row.updated_by, row.updated_at)

    async def set_policy(
        self, project_id: str, approvals: int, approvers: str, *, by: str, at: datetime
    ) -> Policy:
        """Store the project's policy (replacing any earlier one)."""
        values = {
            "project_id": project_id,
            "approvals": approvals,
            "approvers": approvers,
            "updated_by": by,
            "updated_at": at,
        }
        statement = (
            self.db.insert(ApprovalPolicyRow)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["project_id"],
                set_={k: v for k, v in values.items() if k != "project_id"},
            )
        )
        async with self.db.session() as session:
            await session.exec(statement)
        return Policy(project_id, approvals, approvers, by, at)

    # -- requests ------------------------------------------------------------

    async def create(
        self,
        *,
        project_id: str,
        project_name: str,
        upload_id: str,
        action: str,
        requested_by: str,
        channel_id: str,
        reason: str,
        needed: int,
        approvers: str,
        now: datetime,
        expires_at: datetime,
    ) -> ApprovalRequest:
        """Store a new pending request."""
        row = ApprovalRequestRow(
            project_id=project_id,
            project_name=project_name,
            upload_id=upload_id,
            action=action,
            requested_by=requested_by,
            channel_id=channel_id,
            reason=reason,
            needed=needed,
            approvers=approvers,
            status=PENDING,
            created_at=now,
            expires_at=expires_at,
        )
        async with self.db.session() as session:
            session.add(row)
            await session.flush()
            return to_request(row, [])

    async def get(self, request_id: int) -> ApprovalRequest | None:
        """The request with its votes, if it exists."""
        async with self.db.session() as session:
            row = await session.get(ApprovalRequestRow, request_id)
            if row is None:
                return None
            votes = await session.exec(
                select(ApprovalVoteRow).where(ApprovalVoteRow.request_id == request_id)
            )
            return to_request(row, list(votes.all()))

    async def add_vote(self, request_id: int, voter_id: str, at: datetime) -> bool:
        """Record ``voter_id``'s approval; False when they had already approved."""
        try:
            async with self.db.session() as session:
                session.add(ApprovalVoteRow(request_id=request_id, voter_id=voter_id, voted_at=at))
        except IntegrityError:
            return False
        return True

    async def approve_if_complete(self, request_id: int, voter_id: str, at: datetime) -> bool:
        """Move a pending request to ``approved`` if it has enough votes.

        Call it after the vote's own transaction committed: every vote is then
        visible, and of concurrent callers exactly one sees the row still
        pending (the others find it moved on), so exactly one returns True.
        """
        votes = (
            select(func.count())
            .select_from(ApprovalVoteRow)
            .where(ApprovalVoteRow.request_id == request_id)
            .scalar_subquery()
        )
        statement = (
            update(ApprovalRequestRow)
            .where(
                col(ApprovalRequestRow.id) == request_id,
                col(ApprovalRequestRow.status) == PENDING,
                col(ApprovalRequestRow.needed) <= votes,
            )
            .values(status=APPROVED, decided_by=voter_id, decided_at=at)
        )
        async with self.db.session() as session:
            result = await session.exec(statement)
            return bool(result.rowcount)

    async def move(
        self,
        request_id: int,
        *,
        expected: str,
        to: str,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
    ) -> bool:
        """Move the request from ``expected`` to ``to``; False when it was not ``expected``.

        ``by``/``at`` set who decided and when; ``note`` the reason or outcome.
        """
        values: dict[str, object] = {"status": to}
        if by is not None:
            values["decided_by"] = by
        if at is not None:
            values["decided_at"] = at
        if note is not None:
            values["note"] = note
        statement = (
            update(ApprovalRequestRow)
            .where(
                col(ApprovalRequestRow.id) == request_id,
                col(ApprovalRequestRow.status) == expected,
            )
            .values(**values)
        )
        async with self.db.session() as session:
            result = await session.exec(statement)
            return bool(result.rowcount)

    async def approved_for(
        self, project_id: str, upload_id: str, action: str, requested_by: str
    ) -> ApprovalRequest | None:
        """The oldest approved, not yet run request for exactly this release, if any."""
        query = (
            select(ApprovalRequestRow)
            .where(
                ApprovalRequestRow.project_id == project_id,
                ApprovalRequestRow.upload_id == upload_id,
                ApprovalRequestRow.action == action,
                ApprovalRequestRow.requested_by == requested_by,
                ApprovalRequestRow.status == APPROVED,
            )
            .order_by(col(ApprovalRequestRow.id))
            .limit(1)
        )
        async with self.db.session() as session:
            row = (await session.exec(query)).first()
            return None if row is None else to_request(row, [])

    async def due_to_expire(self, now: datetime, *, limit: int = 100) -> list[int]:
        """Ids of pending requests whose deadline has passed, oldest first."""
        query = (
            select(ApprovalRequestRow.id)
            .where(
                ApprovalRequestRow.status == PENDING,
                col(ApprovalRequestRow.expires_at) <= now,
            )
            .order_by(col(ApprovalRequestRow.expires_at))
            .limit(limit)
        )
        async with self.db.session() as session:
            return [i for i in (await session.exec(query)).all() if i is not None]

    async def open_requests(self, *, limit: int = 50) -> list[ApprovalRequest]:
        """Requests still waiting for votes or for their run, oldest first (with votes)."""
        query = (
            select(ApprovalRequestRow)
            .where(col(ApprovalRequestRow.status).in_((PENDING, APPROVED, RUNNING)))
            .order_by(col(ApprovalRequestRow.id))
            .limit(limit)
        )
        async with self.db.session() as session:
            rows = list((await session.exec(query)).all())
            ids = [r.id for r in rows]
            votes = (
                await session.exec(
                    select(ApprovalVoteRow).where(col(ApprovalVoteRow.request_id).in_(ids))
                )
            ).all()
        by_request: dict[int, list[ApprovalVoteRow]] = {}
        for vote in votes:
            by_request.setdefault(vote.request_id, []).append(vote)
        return [to_request(r, by_request.get(r.id or 0, [])) for r in rows]
