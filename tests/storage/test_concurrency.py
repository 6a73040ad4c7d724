"""Concurrent writers never see "database is locked"."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.coordination import ClaimStore
from storage.db import Database


async def test_concurrent_read_then_write_transactions_from_two_pools(database: Database) -> None:
    """Two engines on one database (like two processes), 25 read-then-write transactions each.

    With SQLite's default deferred BEGIN, a read transaction that later writes
    fails instantly with SQLITE_BUSY when another connection holds the write
    lock; BEGIN IMMEDIATE makes it wait (busy_timeout) instead.
    """
    other = await _second_engine(database)

    async def read_then_write(db: Database, i: int) -> None:
        async with db.session() as session:
            await session.exec(text("SELECT count(*) FROM action_claims"))
            await asyncio.sleep(0)
            await session.exec(
                text(
                    "INSERT INTO action_claims (claim_key, actor_id, claimed_at, message) "
                    "VALUES (:k, 'U', CURRENT_TIMESTAMP, '')"
                ),
                params={"k": f"key-{i}"},
            )

    try:
        await asyncio.gather(*(read_then_write(database if i % 2 else other, i) for i in range(50)))
        await asyncio.gather(*(ClaimStore(other).claim(f"extra-{i}", "U") for i in range(50)))
    finally:
        await other.dispose()
    async with database.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM action_claims"))).scalar()
    assert count == 100


async def _second_engine(database: Database) -> Database:
    """Another engine on the same database (and, on PostgreSQL, the same test schema)."""
    if database.dialect != "postgresql":
        return Database(database.url)
    async with database.engine.connect() as conn:
        search_path = str((await conn.execute(text("SHOW search_path"))).scalar())
    return Database(database.url, connect_args={"server_settings": {"search_path": search_path}})


async def test_reads_do_not_wait_for_another_engines_write_transaction(database: Database) -> None:
    """While one engine holds a write transaction, another engine's read() still answers."""
    other = await _second_engine(database)
    try:
        async with database.session() as session:
            await session.exec(
                text(
                    "INSERT INTO action_claims (claim_key, actor_id, claimed_at, message) "
                    "VALUES ('held', 'U', CURRENT_TIMESTAMP, '')"
                )
            )
            async with other.read() as conn:
                seen = await asyncio.wait_for(
                    conn.execute(text("SELECT count(*) FROM action_claims")), timeout=5
                )
                assert seen.scalar() == 0  # the uncommitted row is not visible
    finally:
        await other.dispose()
