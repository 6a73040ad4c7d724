"""Concurrent writers never see "database is locked"."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.claims import ClaimStore
from storage.db import Database


async def test_fifty_concurrent_read_then_write_transactions(database: Database) -> None:
    """Fifty transactions that read and then write, all at once, all commit.

    With SQLite's default deferred BEGIN, a read transaction that later writes
    fails instantly with SQLITE_BUSY; BEGIN IMMEDIATE makes it wait instead.
    """
    claims = ClaimStore(database)

    async def read_then_write(i: int) -> None:
        async with database.session() as session:
            await session.exec(text("SELECT count(*) FROM action_claims"))
            await asyncio.sleep(0)
            await session.exec(
                text(
                    "INSERT INTO action_claims (claim_key, actor_id, claimed_at, message) "
                    "VALUES (:k, 'U', CURRENT_TIMESTAMP, '')"
                ),
                params={"k": f"key-{i}"},
            )

    await asyncio.gather(*(read_then_write(i) for i in range(50)))
    await asyncio.gather(*(claims.claim(f"extra-{i}", "U") for i in range(50)))
    async with database.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM action_claims"))).scalar()
    assert count == 100
