"""Governance messages as outbox rows: the approval request message, a freeze's end, an override.

Storage owns these payload types because it persists them (JSON in
``outbox.payload``); the delivery worker reads them back and hands them to the
renderer the composition root gave it.

The approval request message is one Slack message per request, posted by the
first row of subject ``approval:<id>`` and updated in place by every later
one. Each row carries a snapshot of the request taken *inside the transaction
that inserts the row*, after locking the request row: snapshots are therefore
taken in the order of the rows' ids, the worker delivers a channel's rows in
that order, and the last update always shows the latest state — even when
votes arrive at once on several replicas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from storage.approvals import (
    ApprovalRequest,
    ApprovalRequestRow,
    ApprovalVoteRow,
    Vote,
    to_request,
)
from storage.db import Database
from storage.freezes import Freeze
from storage.outbox import PENDING, OutboxRow

#: The approval request message (one per request, updated in place).
APPROVAL_MESSAGE = "governance.approval"
#: A freeze ended by itself (a standalone message in the channel that set it).
FREEZE_ENDED = "governance.freeze_ended"
#: An admin overrode a freeze for one action (a standalone announcement).
FREEZE_OVERRIDDEN = "governance.freeze_overridden"
#: Notifications whose subject is one message kept up to date in place (no thread replies).
IN_PLACE_EVENTS = frozenset({APPROVAL_MESSAGE})


def approval_subject(request_id: int) -> str:
    """The outbox subject key of a request's message."""
    return f"approval:{request_id}"


def _dates(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _undate(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    out = dict(values)
    for name in names:
        if out.get(name) is not None:
            out[name] = datetime.fromisoformat(str(out[name]))
    return out


def approval_payload(request: ApprovalRequest) -> dict[str, Any]:
    """The JSON-able snapshot of a request (votes included)."""
    values = _dates({k: v for k, v in asdict(request).items() if k != "votes"})
    values["votes"] = [[v.voter_id, v.voted_at.isoformat()] for v in request.votes]
    return {"event": APPROVAL_MESSAGE, "request": values}


def approval_from_payload(payload: Mapping[str, Any]) -> ApprovalRequest:
    """Read back what :func:`approval_payload` stored."""
    values = _undate(payload["request"], "created_at", "expires_at", "decided_at")
    votes = tuple(Vote(str(v), datetime.fromisoformat(str(t))) for v, t in values.pop("votes"))
    return ApprovalRequest(**values, votes=votes)


def freeze_payload(event: str, freeze: Freeze, **extra: str) -> dict[str, Any]:
    """A freeze (with ``extra`` fields such as an override's actor and reason) as JSON."""
    return {"event": event, "freeze": _dates(asdict(freeze)), **extra}


def freeze_from_payload(payload: Mapping[str, Any]) -> Freeze:
    """Read back the freeze of :func:`freeze_payload`."""
    values = _undate(payload["freeze"], "starts_at", "ends_at", "created_at", "ended_at")
    return Freeze(**values)


class GovernanceOutbox:
    """Writes governance messages into the outbox."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def approval_changed(self, request_id: int, now: datetime) -> None:
        """Queue the request's message as it is now (post first, update in place after)."""
        query = select(ApprovalRequestRow).where(col(ApprovalRequestRow.id) == request_id)
        if self.db.dialect == "postgresql":
            query = query.with_for_update()
        async with self.db.session() as session:
            row = (await session.exec(query)).one()
            votes = await session.exec(
                select(ApprovalVoteRow).where(ApprovalVoteRow.request_id == request_id)
            )
            request = to_request(row, list(votes.all()))
            session.add(
                OutboxRow(
                    channel=request.channel_id,
                    subject_key=approval_subject(request_id),
                    payload=json.dumps(approval_payload(request), sort_keys=True),
                    status=PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )

    async def standalone(self, channel: str, payload: dict[str, Any], now: datetime) -> None:
        """Queue a one-off message for ``channel``."""
        async with self.db.session() as session:
            session.add(
                OutboxRow(
                    channel=channel,
                    subject_key="",
                    payload=json.dumps(payload, sort_keys=True),
                    status=PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
