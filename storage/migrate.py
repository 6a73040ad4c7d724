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
import os
import traceback
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
    """The pending migrations, applied in a forked child process (Alembic stays out of ours).

    ``streamops serve`` forks it before its event loop starts and before it imports
    the app: the child already holds SQLAlchemy and the storage modules, and a fresh
    database migrates on another core while the server loads the rest. :meth:`finish`
    waits for it.
    """

    def __init__(self, pid: int, report: int) -> None:
        self._pid = pid
        self._report = report

    @classmethod
    def start(cls, url: str) -> ChildUpgrade:
        """Fork a child that applies what ``url`` lacks (nothing when it is current).

        Call it with no event loop running and no other thread: a fork copies only
        the calling thread.
        """
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            code = 1
            try:
                os.close(read_end)
                code = _migrate_in_child(url, write_end)
            finally:
                os._exit(code)  # no atexit handlers, no buffers of the parent's flushed twice
        os.close(write_end)
        return cls(pid, read_end)

    async def finish(self) -> None:
        """Wait until the child has exited.

        Raises:
            RuntimeError: the migrations failed; the message ends with the child's traceback.
        """
        report, code = await asyncio.to_thread(self._wait)
        if code != 0:
            raise RuntimeError(f"migrations failed (exit {code}):\n{report}")

    def _wait(self) -> tuple[str, int]:
        with os.fdopen(self._report, "rb") as pipe:
            report = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        return report.decode(errors="replace")[-4000:], os.waitstatus_to_exitcode(status)


def _migrate_in_child(url: str, report: int) -> int:
    """A forked child's work: 0 once ``url`` is current, else 1 and the traceback in ``report``."""
    with os.fdopen(report, "wb") as pipe:
        try:
            asyncio.run(_upgrade_pending(url))
        except BaseException:
            pipe.write(traceback.format_exc().encode(errors="replace"))
            return 1
    return 0


async def _upgrade_pending(url: str) -> None:
    db = Database(url)
    try:
        if not await is_current(db):
            await upgrade(db)
    finally:
        await db.dispose()


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
