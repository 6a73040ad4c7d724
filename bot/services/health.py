"""Readiness: the database answers and its schema is current."""

from __future__ import annotations

from storage import migrate
from storage.db import Database


async def database_problem(db: Database) -> str | None:
    """None when the database is ready; ``"migrations pending"`` when it is behind.

    Raises:
        Exception: the database cannot be reached (the caller reports which kind).
    """
    await db.ping()
    return None if await migrate.is_current(db) else "migrations pending"
