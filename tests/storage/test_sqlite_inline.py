"""Single statements on the loop's own SQLite connection (storage.sqlite_inline).

A claim or role lookup runs at once when SQLite can answer without waiting; while
the pooled connection holds the write lock it waits on the pooled path instead
(never on the loop's thread); the WAL is checkpointed in aiosqlite's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import migrate, sqlite_inline
from storage.coordination import ActionClaim, ClaimStore
from storage.db import Database
from storage.sqlite_inline import InlineSqlite, inline_path


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:////var/lib/streamops/streamops.db", "/var/lib/streamops/streamops.db"),
        ("sqlite+aiosqlite:///./streamops.db", "./streamops.db"),
        ("sqlite+aiosqlite://", None),  # in memory: private to its connection
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite:///file:x?mode=memory&uri=true", None),
        ("postgresql+asyncpg://db.example/streamops", None),
    ],
)
def test_only_a_plain_database_file_gets_an_inline_connection(url: str, path: str | None) -> None:
    assert inline_path(url) == path


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    await migrate.upgrade(db)
    yield db
    await db.dispose()


async def _pooled_statements(db: Database) -> list[str]:
    sent: list[str] = []
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.set_trace_callback(lambda sql: sent.append(sql.split()[0].upper()))
    return sent


async def test_a_claim_waits_on_the_pooled_path_while_the_write_lock_is_held(
    sqlite_db: Database,
) -> None:
    claims = ClaimStore(sqlite_db)
    pooled = await _pooled_statements(sqlite_db)
    assert await claims.claim("slack-command:free", "U1")
    assert pooled == []  # ran inline

    holding = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with sqlite_db.session() as session:  # BEGIN IMMEDIATE: the write lock
            session.add(ActionClaim(claim_key="held", actor_id="U0", claimed_at=datetime.now(UTC)))
            await session.flush()
            holding.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await holding.wait()
    pending = asyncio.create_task(claims.claim("slack-command:busy", "U2"))
    await asyncio.sleep(0.05)
    assert not pending.done()  # SQLite said busy at once; it waits for the pooled connection
    release.set()  # ... which the loop went on serving meanwhile
    await task
    assert await pending
    assert "INSERT" in pooled  # the claim's INSERT, sent through aiosqlite's thread
    assert await claims.get("held") is not None and await claims.get("slack-command:busy")


async def test_the_wal_is_checkpointed_in_the_drivers_thread(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "CHECKPOINT_EVERY_CHANGES", 5)
    claims = ClaimStore(sqlite_db)
    pooled = await _pooled_statements(sqlite_db)
    for i in range(4):
        assert await claims.claim(f"k{i}", "U1")
    assert pooled == []
    assert await claims.claim("k4", "U1")  # the fifth change
    for _ in range(100):
        if "PRAGMA" in pooled:
            break
        await asyncio.sleep(0.01)
    assert pooled == ["PRAGMA"]  # wal_checkpoint(PASSIVE), not on the loop's thread


async def test_another_thread_uses_the_pooled_path(sqlite_db: Database, tmp_path: Path) -> None:
    inline = InlineSqlite(str(tmp_path / "inline.db"))
    assert inline.try_fetch("SELECT count(*) FROM action_claims", ()) == [(0,)]
    seen: list[object] = []
    thread = threading.Thread(
        target=lambda: seen.append(inline.try_fetch("SELECT count(*) FROM action_claims", ()))
    )
    thread.start()
    thread.join()
    assert seen == [None]  # not its connection: nothing run
    inline.close()
    assert inline.try_fetch("SELECT 1", ()) is None
