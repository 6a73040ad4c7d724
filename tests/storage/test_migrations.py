"""Migrations apply cleanly on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage import migrate
from storage.db import Database


async def test_upgrade_from_empty_reaches_every_head(empty_database: Database) -> None:
    """An empty database is not current; after upgrade it is at every script head."""
    assert not await migrate.is_current(empty_database)
    await migrate.upgrade(empty_database)
    assert await migrate.current_heads(empty_database) == migrate.script_heads()
    assert await migrate.is_current(empty_database)


async def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    """Running the upgrade again on a current database changes nothing."""
    await migrate.upgrade(database)
    assert await migrate.is_current(database)


async def test_sqlite_pragmas(database: Database) -> None:
    """SQLite runs in WAL mode with foreign keys on and a busy timeout."""
    if database.dialect != "sqlite":
        pytest.skip("SQLite pragmas do not apply to PostgreSQL")
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
