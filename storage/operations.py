"""What operators look at: webhook health, the outbox backlog, failed deliveries and their retry.

Read by the App Home dashboard and the Prometheus collector (every replica reads the same shared
tables, so the figures agree whichever replica answers). Accepted webhooks are the stored
deliveries; duplicates and refusals are not stored, so the intake counts them per provider and
hour in ``webhook_tallies``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Field, SQLModel, col
from sqlmodel import select as select_models

from storage.db import Database
from storage.outbox import FAILED, PENDING, OutboxRow
from storage.timeutil import UTCDateTime
from storage.webhooks import QUEUED, WebhookDelivery

#: How the stored payload of a delivery made by reconciliation (not a webhook) begins.
RECONCILED_PREFIX = '{"reconciled": true'

DUPLICATE = "duplicate"
REFUSED = "refused"
ACCEPTED = "accepted"


class WebhookTally(SQLModel, table=True):
    """How many webhooks of ``provider`` ended ``outcome`` (duplicate, refused) in ``hour``."""

    __tablename__ = "webhook_tallies"

    provider: str = Field(primary_key=True, max_length=16)
    hour: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    outcome: str = Field(primary_key=True, max_length=16)
    count: int


@dataclass(frozen=True)
class ProviderHealth:
    """One provider's webhooks: the last one received and the counts over a window."""

    provider: str
    last_received_at: datetime | None
    accepted: int = 0
    duplicate: int = 0
    refused: int = 0


@dataclass(frozen=True)
class Backlog:
    """Undelivered notifications: how many, and when the oldest was queued."""

    pending: int
    oldest_at: datetime | None
    failed: int = 0


@dataclass(frozen=True)
class FailedDelivery:
    """A notification the worker gave up on."""

    id: int
    channel: str
    event: str
    subject: str | None
    error: str | None
    finished_at: datetime | None


#: Deliveries that came as webhooks (reconciliation's own rows are not webhook health).
_webhook = ~col(WebhookDelivery.payload).startswith(RECONCILED_PREFIX)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class OperationsStore:
    """Reads (and the few writes) behind the operators' views."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_tallies(self, counts: dict[tuple[str, datetime, str], int]) -> None:
        """Add ``counts`` ((provider, hour, outcome) → n) to the tallies, in one transaction."""
        if not counts:
            return
        table = WebhookTally.__table__  # type: ignore[attr-defined]  # SQLModel table
        async with self.db.session() as session:
            for (provider, hour, outcome), n in sorted(counts.items()):
                insert = self.db.insert(WebhookTally).values(
                    provider=provider, hour=_hour(hour), outcome=outcome, count=n
                )
                await session.exec(
                    insert.on_conflict_do_update(
                        index_elements=["provider", "hour", "outcome"],
                        set_={"count": table.c.count + n},
                    )
                )

    async def webhook_health(
        self, providers: tuple[str, ...], now: datetime, window: timedelta
    ) -> list[ProviderHealth]:
        """Per provider: the last delivery stored, and accepted/duplicate/refused in ``window``."""
        since = now - window
        async with self.db.read() as conn:
            last: dict[str, datetime] = dict(
                (
                    await conn.execute(
                        select(
                            col(WebhookDelivery.provider),
                            func.max(col(WebhookDelivery.received_at)),
                        )
                        .where(col(WebhookDelivery.provider).in_(providers), _webhook)
                        .group_by(col(WebhookDelivery.provider))
                    )
                ).all()
            )
            accepted: dict[str, int] = dict(
                (
                    await conn.execute(
                        select(col(WebhookDelivery.provider), func.count())
                        .where(
                            col(WebhookDelivery.provider).in_(providers),
                            _webhook,
                            col(WebhookDelivery.received_at) >= since,
                        )
                        .group_by(col(WebhookDelivery.provider))
                    )
                ).all()
            )
            tallies: dict[tuple[str, str], int] = {}
            for provider, outcome, total in (
                await conn.execute(
                    select(
                        col(WebhookTally.provider),
                        col(WebhookTally.outcome),
                        func.sum(col(WebhookTally.count)),
                    )
                    .where(col(WebhookTally.hour) >= _hour(since))
                    .group_by(col(WebhookTally.provider), col(WebhookTally.outcome))
                )
            ).all():
                tallies[(provider, outcome)] = int(total or 0)
        result = []
        for provider in providers:
            at = last.get(provider)
            result.append(
                ProviderHealth(
                    provider=provider,
                    last_received_at=at,  # max() keeps the column's UTC type
                    accepted=int(accepted.get(provider, 0)),
                    duplicate=tallies.get((provider, DUPLICATE), 0),
                    refused=tallies.get((provider, REFUSED), 0),
                )
            )
        return result

    async def backlog(self) -> Backlog:
        """Pending notifications, the oldest one's queue time, and failed ones."""
        async with self.db.read() as conn:
            pending, oldest = (
                await conn.execute(
                    select(func.count(), func.min(col(OutboxRow.created_at))).where(
                        col(OutboxRow.status) == PENDING
                    )
                )
            ).one()
            failed = (
                await conn.execute(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(col(OutboxRow.status) == FAILED)
                )
            ).scalar()
        return Backlog(pending=int(pending or 0), oldest_at=oldest, failed=int(failed or 0))

    async def failed_deliveries(self, limit: int = 10) -> list[FailedDelivery]:
        """The latest notifications given up on, newest first."""
        query = (
            select_models(OutboxRow)
            .where(col(OutboxRow.status) == FAILED)
            .order_by(col(OutboxRow.id).desc())
            .limit(limit)
        )
        async with self.db.session() as session:
            rows = (await session.exec(query)).all()
        return [_failed(row) for row in rows]

    async def retry_failed(self, row_id: int, now: datetime) -> FailedDelivery | None:
        """Queue a failed notification again, once: None unless it was failed until now.

        The row goes back to ``pending`` (due now, attempts reset) in one conditional UPDATE, so
        two clicks or two replicas re-queue it once; its delivery is ``queued`` again.
        """
        async with self.db.session() as session:
            row = await session.get(OutboxRow, row_id)
            if row is None or row.status != FAILED:
                return None
            failed = _failed(row)
            result = await session.exec(
                update(OutboxRow)
                .where(col(OutboxRow.id) == row_id, col(OutboxRow.status) == FAILED)
                .values(
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    error=None,
                    finished_at=None,
                    lease_owner=None,
                    lease_until=None,
                )
            )
            if not result.rowcount:
                return None
            if row.delivery_id is not None:
                await session.exec(
                    update(WebhookDelivery)
                    .where(col(WebhookDelivery.id) == row.delivery_id)
                    .values(outcome=QUEUED)
                )
        return failed

    async def events_seen(self, provider: str, subjects: list[str]) -> dict[str, set[str]]:
        """The events stored for each of ``subjects`` (webhooks and earlier reconciliations)."""
        seen: dict[str, set[str]] = {}
        if not subjects:
            return seen
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(col(WebhookDelivery.subject), col(WebhookDelivery.event)).where(
                    col(WebhookDelivery.provider) == provider,
                    col(WebhookDelivery.subject).in_(subjects),
                )
            )
            for subject, event in rows.all():
                seen.setdefault(str(subject), set()).add(str(event))
        return seen

    async def count_rows(self, table: type[SQLModel]) -> int:
        """Rows in ``table`` (the audit log, for the metric)."""
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar() or 0)


def _failed(row: OutboxRow) -> FailedDelivery:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    assert row.id is not None
    return FailedDelivery(
        id=row.id,
        channel=row.channel,
        event=str(payload.get("event") or "?"),
        subject=payload.get("subject"),
        error=row.error,
        finished_at=row.finished_at,
    )
