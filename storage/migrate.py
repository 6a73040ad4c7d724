"""Apply and inspect the Alembic schema from inside the running event loop."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _script_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(_config()).get_heads())


def script_heads() -> set[str]:
    """The revisions the code expects the database to be at (read from disk once)."""
    return set(_script_heads())


#: Held while migrating on PostgreSQL, so replicas starting together migrate once.
MIGRATION_LOCK_KEY = 0x5EA0_0001


async def upgrade(db: Database, target: str = "heads") -> None:
    """Bring the schema up to ``target`` (all heads by default)."""
    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), target))


async def current_heads(db: Database) -> set[str]:
    """The revisions the database is at (empty before the first upgrade)."""
    async with db.read() as conn:
        return await conn.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )


async def is_current(db: Database) -> bool:
    """True when every migration the code knows has been applied."""
    return await current_heads(db) == script_heads()
