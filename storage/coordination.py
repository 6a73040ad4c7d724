"""Shared state that coordinates replicas: one-shot claims, rate slots and Slack pacing.

Each primitive is a row that every replica reads and writes atomically, so
"this runs once", "one provider call per window" and "one Slack message per
second per channel" hold across processes:

- :class:`ClaimStore`: a button, once used, cannot run twice. The first INSERT
  of a key wins; every later or concurrent caller hits the primary key.
- :class:`RateSlots`: when an account last used a rate-limited call
  (Streampixel's upload/distribute window, the live poller's turn).
- :class:`Pacing`: when Slack calls for a key may resume (``channel:<id>``
  pacing, ``method:<name>`` after a 429).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.group_commit import settle
from storage.timeutil import UTCDateTime, stored_time

# -- one-shot claims -------------------------------------------------------------


class ActionClaim(SQLModel, table=True):
    """Who claimed a one-shot action, when, and how it ended."""

    __tablename__ = "action_claims"

    claim_key: str = Field(primary_key=True, max_length=255)
    actor_id: str = Field(max_length=64)
    claimed_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    message: str = Field(default="", sa_type=Text)


@dataclass(frozen=True)
class Claim:
    """A claim as read back."""

    key: str
    actor_id: str
    claimed_at: datetime
    outcome: str | None
    message: str


#: The most claims one statement carries.
MAX_CLAIMS_PER_STATEMENT = 100


class ClaimStore:
    """Claims one-shot actions in the database (shared by every replica).

    Every slash command is claimed (the replay guard), so a claim is one core
    ``INSERT … ON CONFLICT (claim_key) DO NOTHING``, its own transaction
    (:meth:`Database.one`); its row count says whether it won. Claims that
    arrive while one is in flight wait and go together in the next statement,
    one row each, ``RETURNING`` the keys it took. The database still decides
    every winner (the primary key), so replicas and the process's own requests
    contend the same way, and a key asked twice in one batch wins once.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._one = db.insert(ActionClaim).on_conflict_do_nothing(index_elements=["claim_key"])
        self._many = self._one.returning(col(ActionClaim.claim_key))
        # SQLite: the same INSERT sent to the driver in one call (Database.sqlite_fetch).
        self._stored_time = stored_time(db.engine.dialect)
        self._busy = False
        self._waiting: list[tuple[str, str, asyncio.Future[bool]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def claim(self, key: str, actor_id: str) -> bool:
        """Claim ``key`` for ``actor_id``; True for exactly one caller ever."""
        if self._busy:  # a statement is in flight: join the next one
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            self._waiting.append((key, actor_id, future))
            return await future
        self._busy = True
        try:
            won = await self._insert([(key, actor_id)])
        finally:
            self._hand_over()
        return key in won

    def _hand_over(self) -> None:
        if self._waiting:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())  # stays busy
        else:
            self._busy = False

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:MAX_CLAIMS_PER_STATEMENT]
                del self._waiting[:MAX_CLAIMS_PER_STATEMENT]
                await self._settle(batch)
        finally:
            self._busy = False

    async def _settle(self, batch: list[tuple[str, str, asyncio.Future[bool]]]) -> None:
        try:
            won = await self._insert([(key, actor) for key, actor, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                settle(batch[0][2], exc=exc)
                return
            for one in batch:  # one bad row fails only its own caller
                await self._settle([one])
            return
        for key, _, future in batch:
            settle(future, result=key in won)
            won.discard(key)  # the same key twice in one batch: the first asker won

    async def _insert(self, claims: list[tuple[str, str]]) -> set[str]:
        """Insert the claims not yet taken; the keys this statement took."""
        now = datetime.now(UTC)
        rows = {
            key: {"claim_key": key, "actor_id": actor, "claimed_at": now, "message": ""}
            for key, actor in reversed(claims)  # the first asker's row for a repeated key
        }
        if self.db.dialect == "sqlite":  # one call into aiosqlite's thread, not four
            stored = self._stored_time(now)
            params = [v for key, row in rows.items() for v in (key, row["actor_id"], stored)]
            taken = await self.db.sqlite_fetch(_sqlite_claims(len(rows)), params)
            return {key for (key,) in taken}
        async with self.db.one() as conn:
            if len(rows) == 1:  # no RETURNING: its rows cost one more call into the driver
                ((key, row),) = rows.items()
                result = await conn.execute(self._one, row)
                return {key} if result.rowcount == 1 else set()
            result = await conn.execute(self._many, list(rows.values()))
            return set(result.scalars().all())

    async def finish(self, key: str, outcome: str, message: str = "") -> None:
        """Record how the claimed action ended (``ok`` / ``failed`` ...)."""
        async with self.db.session() as session:
            row = await session.get(ActionClaim, key)
            if row is None:
                raise KeyError(key)
            row.outcome = outcome
            row.message = message
            session.add(row)

    async def release(self, key: str) -> None:
        """Drop a claim whose action did not start, so it can be tried again."""
        async with self.db.session() as session:
            row = await session.get(ActionClaim, key)
            if row is not None:
                await session.delete(row)

    async def get(self, key: str) -> Claim | None:
        """The claim on ``key``, if any."""
        async with self.db.session() as session:
            row = await session.get(ActionClaim, key)
            if row is None:
                return None
            claimed_at = row.claimed_at
            return Claim(row.claim_key, row.actor_id, claimed_at, row.outcome, row.message)


@functools.cache
def _sqlite_claims(count: int) -> str:
    """``count`` claims in one statement: the keys it took come back (RETURNING)."""
    values = ", ".join(["(?, ?, ?, NULL, '')"] * count)  # placeholders only: no value inlined
    return (
        "INSERT INTO action_claims (claim_key, actor_id, claimed_at, outcome, message) "  # noqa: S608
        f"VALUES {values} ON CONFLICT (claim_key) DO NOTHING RETURNING claim_key"
    )


# -- rate slots ------------------------------------------------------------------


class RateSlot(SQLModel, table=True):
    """When an account last used a rate-limited call (``action``: upload or distribute)."""

    __tablename__ = "rate_slots"

    account: str = Field(primary_key=True, max_length=64)
    action: str = Field(primary_key=True, max_length=32)
    last_at: datetime = Field(sa_type=UTCDateTime)


class RateSlots:
    """Rate-limited calls per account and action, shared by every replica."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def take_slot(
        self, account: str, action: str, *, now: datetime, window: timedelta
    ) -> datetime | None:
        """Use the account's slot for ``action`` if it is free.

        Atomic across replicas: a conditional UPDATE (or the first INSERT) wins.

        Args:
            account: the provider account (Streampixel user id).
            action: ``"upload"`` or ``"distribute"``.
            now: the current time.
            window: how long one call blocks the next.

        Returns:
            None when the slot was taken for this call; otherwise when it opens next.
        """
        async with self.db.session() as session:
            result = await session.exec(
                update(RateSlot)
                .where(
                    col(RateSlot.account) == account,
                    col(RateSlot.action) == action,
                    col(RateSlot.last_at) <= now - window,
                )
                .values(last_at=now)
            )
            if result.rowcount == 1:
                return None
            row = await session.get(RateSlot, (account, action))
            if row is not None:
                return row.last_at + window
        try:
            async with self.db.session() as session:
                session.add(RateSlot(account=account, action=action, last_at=now))
        except IntegrityError:
            # A concurrent caller inserted first and holds the slot.
            return await self.next_slot(account, action, now=now, window=window)
        return None

    async def next_slot(
        self, account: str, action: str, *, now: datetime, window: timedelta
    ) -> datetime:
        """When the slot for ``action`` is free (``now`` if it already is)."""
        async with self.db.session() as session:
            row = await session.get(RateSlot, (account, action))
        if row is None:
            return now
        return max(now, row.last_at + window)

    async def block_slot(
        self, account: str, action: str, *, until: datetime, window: timedelta
    ) -> None:
        """Mark the slot used so that it next opens at ``until`` (the provider said wait).

        Never moves the slot earlier, even when replicas block it concurrently:
        an insert-if-missing, then a conditional UPDATE (no read-modify-write).
        """
        last_at = until - window
        async with self.db.session() as session:
            await session.exec(
                self.db.insert(RateSlot)
                .values(account=account, action=action, last_at=last_at)
                .on_conflict_do_nothing(index_elements=["account", "action"])
            )
            await session.exec(
                update(RateSlot)
                .where(
                    col(RateSlot.account) == account,
                    col(RateSlot.action) == action,
                    col(RateSlot.last_at) < last_at,
                )
                .values(last_at=last_at)
            )


# -- Slack pacing -----------------------------------------------------------------


class SlackPacing(SQLModel, table=True):
    """When calls for ``key`` may resume (``channel:<id>`` pacing, ``method:<name>`` 429s)."""

    __tablename__ = "slack_pacing"

    key: str = Field(primary_key=True, max_length=100)
    next_allowed_at: datetime = Field(sa_type=UTCDateTime)


class Pacing:
    """When Slack calls for a key may next be made, shared by every replica."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve_slot(
        self, key: str, now: datetime, interval: timedelta, *, burst: int = 1
    ) -> datetime:
        """Reserve the next send slot for ``key`` and return when it starts.

        Slots are ``interval`` apart across every worker and replica: the first
        caller gets ``now`` (or the stored next slot, if later), the next one
        ``interval`` after that, and so on. With ``burst`` > 1 (a generic cell
        rate algorithm with that much tolerance) up to ``burst`` slots may start
        early, so the long-run pace stays one per ``interval`` but a message that
        arrives a little early, after a late one, does not wait a whole interval:
        in any window of length T at most ``burst + T / interval`` slots start.
        """
        tolerance = interval * (max(burst, 1) - 1)
        async with self.db.session() as session:
            row = await self._locked_pacing(session, key, now)
            slot = max(now, row.next_allowed_at - tolerance)
            row.next_allowed_at = max(row.next_allowed_at, slot) + interval
            session.add(row)
        return slot

    async def reserve_unless_deferred(
        self, key: str, method_key: str, now: datetime, interval: timedelta, *, burst: int = 1
    ) -> tuple[datetime | None, datetime | None]:
        """:meth:`reserve_slot` unless ``method_key`` is deferred past ``now``, in one transaction.

        Returns ``(slot, None)``, or ``(None, until)`` when the method may not be called
        before ``until`` (a 429's Retry-After); then no slot is reserved.
        """
        tolerance = interval * (max(burst, 1) - 1)
        async with self.db.session() as session:
            method = await session.get(SlackPacing, method_key)
            if method is not None and method.next_allowed_at > now:
                return None, method.next_allowed_at
            row = await self._locked_pacing(session, key, now)
            slot = max(now, row.next_allowed_at - tolerance)
            row.next_allowed_at = max(row.next_allowed_at, slot) + interval
            session.add(row)
        return slot, None

    async def defer(self, key: str, until: datetime) -> None:
        """Hold every call for ``key`` until ``until`` (a 429's Retry-After); never shortens."""
        async with self.db.session() as session:
            row = await self._locked_pacing(session, key, until)
            if row.next_allowed_at < until:
                row.next_allowed_at = until
                session.add(row)

    async def _locked_pacing(self, session: AsyncSession, key: str, first: datetime) -> SlackPacing:
        """The pacing row of ``key``, created at ``first`` if missing, locked for update."""
        seed = (
            self.db.insert(SlackPacing)
            .values(key=key, next_allowed_at=first)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        await session.exec(seed)
        query = select(SlackPacing).where(SlackPacing.key == key).with_for_update()
        return (await session.exec(query)).one()

    async def deferred_until(self, key: str) -> datetime | None:
        """The stored next-allowed time of ``key``, if any."""
        async with self.db.session() as session:
            row = await session.get(SlackPacing, key)
            return row.next_allowed_at if row else None
