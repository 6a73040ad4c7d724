"""One-shot claims: a button, once used, cannot run twice.

A claim is a row with a unique key. The first caller's INSERT wins; every
later or concurrent caller (double click, second replica) hits the primary
key and is told it lost. The winner records how it ended with :meth:`finish`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from storage.db import Database
from storage.timeutil import UTCDateTime


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


class ClaimStore:
    """Claims one-shot actions in the database (shared by every replica)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, key: str, actor_id: str) -> bool:
        """Claim ``key`` for ``actor_id``; True for exactly one caller ever."""
        try:
            async with self.db.session() as session:
                session.add(
                    ActionClaim(claim_key=key, actor_id=actor_id, claimed_at=datetime.now(UTC))
                )
        except IntegrityError:
            return False
        return True

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
