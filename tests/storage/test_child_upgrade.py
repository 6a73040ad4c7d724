"""`streamops serve` migrates in a forked child (storage.migrate.ChildUpgrade).

Forked before any event loop runs, as `serve` does: these tests are synchronous.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage import migrate
from storage.db import Database


def _heads(url: str) -> set[str]:
    async def read() -> set[str]:
        db = Database(url)
        try:
            return await migrate.current_heads(db)
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_a_fresh_database_is_migrated_and_a_current_one_left_alone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    asyncio.run(migrate.ChildUpgrade.start(url).finish())
    assert _heads(url) == migrate.script_heads()

    with sqlite3.connect(tmp_path / "fresh.db") as conn:  # a mark a second upgrade would keep
        conn.execute("CREATE TABLE marker (id INTEGER)")
    asyncio.run(migrate.ChildUpgrade.start(url).finish())
    assert _heads(url) == migrate.script_heads()
    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        assert conn.execute("SELECT count(*) FROM marker").fetchone() == (0,)


def test_a_failed_migration_is_reported_with_the_childs_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database" * 100)
    upgrade = migrate.ChildUpgrade.start(f"sqlite+aiosqlite:///{broken}")
    with pytest.raises(RuntimeError) as failed:
        asyncio.run(upgrade.finish())
    message = str(failed.value)
    assert message.startswith("migrations failed (exit 1):\n")
    assert "line " in message and "file is not a database" in message  # its traceback's end
    assert broken.read_bytes() == b"this is not an SQLite database" * 100  # nothing written
