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


async def test_every_model_table_is_created_by_the_migrations(database: Database) -> None:
    """Each table registered in storage.models exists after upgrade, with the same columns."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers the tables)

    async with database.engine.connect() as conn:
        tables = await conn.run_sync(
            lambda sync: {
                name: {c["name"] for c in inspect(sync).get_columns(name)}
                for name in inspect(sync).get_table_names()
            }
        )
    assert len(SQLModel.metadata.tables) >= 5
    for name, table in SQLModel.metadata.tables.items():
        assert name in tables, f"no migration creates {name}"
        assert {c.name for c in table.columns} <= tables[name], name
