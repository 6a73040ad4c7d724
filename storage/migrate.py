"""Apply and inspect the Alembic schema from inside the running event loop.

Alembic (and Mako, which it loads) is imported only to *apply* migrations: the
expected heads are read from the version files directly (their ``revision`` and
``down_revision``), and the applied ones from ``alembic_version`` with one
query, so a server whose schema is already current never loads Alembic — about
10 MB of resident memory. :class:`ChildUpgrade` applies migrations in a child
process for the same reason (``streamops serve`` uses it).
"""

from __future__ import annotations

import ast
import asyncio
import functools
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _revision_of(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """``(revision, down_revisions)`` of one version file, read without importing it."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in {"revision", "down_revision"}:
                    assert node.value is not None
                    values[target.id] = ast.literal_eval(node.value)
    if "revision" not in values:
        return None
    down = values.get("down_revision")
    downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)
    return str(values["revision"]), downs


@functools.cache
def _script_heads() -> frozenset[str]:
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted((_MIGRATIONS / "versions").glob("*.py")):
        found = _revision_of(path)
        if found is not None:
            revisions[found[0]] = found[1]
    parents = {parent for downs in revisions.values() for parent in downs}
    return frozenset(set(revisions) - parents)


def script_heads() -> set[str]:
    """The revisions the code expects the database to be at (read from disk once)."""
    return set(_script_heads())


#: Held while migrating on PostgreSQL, so replicas starting together migrate once.
MIGRATION_LOCK_KEY = 0x5EA0_0001


async def upgrade(db: Database, target: str = "heads") -> None:
    """Bring the schema up to ``target`` (all heads by default)."""
    from alembic import command

    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), target))


class ChildUpgrade:
    """Pending migrations being applied in a child process (Alembic stays out of ours).

    Started before the server loads the rest of its modules, so a fresh database
    migrates on another core meanwhile; :meth:`finish` waits for it.
    """

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc

    @classmethod
    async def start(cls, url: str) -> ChildUpgrade:
        """Start applying every pending migration to ``url``."""
        env = {**os.environ, "STREAMOPS_MIGRATE_URL": url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "storage.migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def finish(self) -> None:
        """Wait until the child has exited.

        Raises:
            RuntimeError: the migrations failed; the message ends with the child's output.
        """
        output, _ = await self._proc.communicate()
        if self._proc.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{output.decode(errors='replace')[-4000:]}")


async def start_pending_upgrade(url: str) -> ChildUpgrade | None:
    """A :class:`ChildUpgrade` of ``url`` when it lacks a migration the code knows, else None."""
    db = Database(url)
    try:
        if await is_current(db):
            return None
    finally:
        await db.dispose()
    return await ChildUpgrade.start(url)


async def upgrade_in_subprocess(url: str) -> None:
    """Apply every pending migration to ``url`` in a child process."""
    await (await ChildUpgrade.start(url)).finish()


async def current_heads(db: Database) -> set[str]:
    """The revisions the database is at (empty before the first upgrade)."""
    async with db.read() as conn:
        try:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:  # no alembic_version table yet
            return set()
        return {str(version) for (version,) in rows.all()}


async def is_current(db: Database) -> bool:
    """True when every migration the code knows has been applied."""
    return await current_heads(db) == script_heads()


async def _main() -> None:
    db = Database(os.environ["STREAMOPS_MIGRATE_URL"])
    try:
        await upgrade(db)
    finally:
        await db.dispose()


if __name__ == "__main__":
    # A short-lived child of ``streamops serve`` that only imports and migrates: the
    # cyclic collector's passes over Alembic's and the models' objects find nothing.
    gc.disable()
    asyncio.run(_main())
