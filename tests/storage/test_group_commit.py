"""Group commit: concurrent writes share transactions; each caller gets its own outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.coordination import ActionClaim
from storage.db import Database
from storage.group_commit import GroupCommitter


async def _insert(session: AsyncSession, keys: list[str]) -> list[str]:
    for key in keys:
        if key.startswith("bad"):
            raise ValueError(f"refused {key}")
        session.add(ActionClaim(claim_key=key, actor_id="U", claimed_at=datetime.now(UTC)))
    await session.flush()
    return [key.upper() for key in keys]


async def test_concurrent_submits_commit_in_few_transactions(database: Database) -> None:
    """Two hundred concurrent writes all land, in far fewer than 200 transactions."""
    begins = 0

    def count(*_: object) -> None:
        nonlocal begins
        begins += 1

    event.listen(database.engine.sync_engine, "begin", count)
    committer = GroupCommitter(database, _insert, max_batch=50)
    results = await asyncio.gather(*(committer.submit(f"k{i}") for i in range(200)))
    event.remove(database.engine.sync_engine, "begin", count)
    assert results == [f"K{i}" for i in range(200)]
    assert begins <= 10
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM action_claims"))).scalar() == 200


async def test_a_bad_write_fails_alone(database: Database) -> None:
    """One failing write raises for its caller only; the rest of its batch commits."""
    committer = GroupCommitter(database, _insert)
    outcomes = await asyncio.gather(
        *(committer.submit(k) for k in ("a", "bad1", "b", "c")), return_exceptions=True
    )
    assert outcomes[0] == "A" and outcomes[2:] == ["B", "C"]
    assert isinstance(outcomes[1], ValueError)
    async with database.engine.connect() as conn:
        keys = (await conn.execute(text("SELECT claim_key FROM action_claims"))).scalars().all()
    assert sorted(keys) == ["a", "b", "c"]


async def test_sequential_submits_still_work(database: Database) -> None:
    """A lone caller is not kept waiting for a batch to fill."""
    committer = GroupCommitter(database, _insert)
    assert await committer.submit("solo") == "SOLO"
    assert await committer.submit("again") == "AGAIN"
    with pytest.raises(ValueError, match="refused bad"):
        await committer.submit("bad")
