"""Role grants made by admins with ``/streamops roles grant|revoke``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, delete
from sqlalchemy import select as core_select
from sqlmodel import Field, SQLModel, select

from storage.db import Database
from storage.timeutil import UTCDateTime


class RoleGrant(SQLModel, table=True):
    """One role held by one Slack user."""

    __tablename__ = "role_grants"

    user_id: str = Field(primary_key=True, max_length=32)
    role: str = Field(primary_key=True, max_length=16)
    granted_by: str = Field(max_length=32)
    granted_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_type=UTCDateTime)


_ROLES_OF = core_select(RoleGrant.__table__.c.role).where(  # type: ignore[attr-defined]  # SQLModel table
    RoleGrant.__table__.c.user_id == bindparam("user_id")  # type: ignore[attr-defined]
)
_SQLITE_ROLES_OF = "SELECT role FROM role_grants WHERE user_id = ?"


class RoleStore:
    """Reads and changes role grants."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def roles_of(self, user_id: str) -> set[str]:
        """The roles granted to ``user_id`` (not counting configured admins)."""
        # Asked on every click and command: one core SELECT on its own (no ORM session,
        # on SQLite no BEGIN and no write lock), so a grant or revoke made on any
        # replica counts from the next request on. On SQLite it goes to the driver in one
        # call into aiosqlite's thread (Database.sqlite_fetch), not four.
        if self.db.dialect == "sqlite":
            rows = await self.db.sqlite_fetch(_SQLITE_ROLES_OF, (user_id,))
            return {str(role) for (role,) in rows}
        async with self.db.one() as conn:
            rows = await conn.execute(_ROLES_OF, {"user_id": user_id})
            return {str(role) for role in rows.scalars()}

    async def grant(self, user_id: str, role: str, granted_by: str) -> bool:
        """Grant ``role``; False when the user already had it."""
        async with self.db.session() as session:
            if await session.get(RoleGrant, (user_id, role)) is not None:
                return False
            session.add(RoleGrant(user_id=user_id, role=role, granted_by=granted_by))
        return True

    async def revoke(self, user_id: str, role: str) -> bool:
        """Revoke ``role``; False when the user did not have it."""
        async with self.db.session() as session:
            result = await session.exec(
                delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == role)  # type: ignore[arg-type]  # sqlmodel stubs cover select only
            )
            return bool(result.rowcount)

    async def all_grants(self) -> list[RoleGrant]:
        """Every grant, by user then role."""
        async with self.db.session() as session:
            rows = await session.exec(select(RoleGrant).order_by(RoleGrant.user_id, RoleGrant.role))
            return list(rows.all())
