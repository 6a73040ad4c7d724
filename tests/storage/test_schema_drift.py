"""The table models and the migrated schema agree: an Alembic autogenerate diff is empty."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)
from storage.db import Database

#: Tables that exist only in the migrations, never as models.
_MIGRATION_ONLY = {"alembic_version"}


def _diff(sync: Connection) -> list[Any]:
    context = MigrationContext.configure(
        sync,
        opts={
            "compare_type": True,
            "compare_server_default": False,
            "include_name": lambda name, kind, _parent: (
                not (kind == "table" and name in _MIGRATION_ONLY)
            ),
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_autogenerate_diff_is_empty(database: Database) -> None:
    """Every table, column, type, index and constraint of the models is what migrations made."""
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], "\n".join(map(str, diff))
