"""One-shot claims: exactly one winner, even under concurrency."""

from __future__ import annotations

import asyncio

from storage.coordination import ClaimStore
from storage.db import Database


async def test_first_claim_wins_and_later_ones_lose(database: Database) -> None:
    """The first claim succeeds; a second claim of the same key fails."""
    claims = ClaimStore(database)
    assert await claims.claim("distribute:p1:u1", "U1")
    assert not await claims.claim("distribute:p1:u1", "U2")
    claim = await claims.get("distribute:p1:u1")
    assert claim is not None and claim.actor_id == "U1" and claim.outcome is None


async def test_concurrent_claims_have_exactly_one_winner(database: Database) -> None:
    """Twenty simultaneous claims of one key produce one True."""
    claims = ClaimStore(database)
    results = await asyncio.gather(*(claims.claim("delete:v1", f"U{i}") for i in range(20)))
    assert results.count(True) == 1


async def test_finish_records_the_outcome_and_release_allows_a_retry(database: Database) -> None:
    """finish() stores how it ended; release() frees the key again."""
    claims = ClaimStore(database)
    await claims.claim("k", "U1")
    await claims.finish("k", "failed", "provider down")
    claim = await claims.get("k")
    assert claim is not None and (claim.outcome, claim.message) == ("failed", "provider down")
    await claims.release("k")
    assert await claims.get("k") is None
    assert await claims.claim("k", "U2")
