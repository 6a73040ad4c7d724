"""One-shot claims: exactly one winner, even under concurrency."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

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


async def test_claims_asked_together_share_one_statement_and_each_key_wins_once(
    database: Database,
) -> None:
    """Claims arriving while one is in flight go in one INSERT; a key asked twice wins once.

    On SQLite a claim runs at once on the loop's own connection (storage.sqlite_inline):
    none is ever in flight, so each is its own statement, with the same winners."""
    claims = ClaimStore(database)
    inserts: list[list[tuple[str, str]]] = []
    insert = claims._insert

    async def _record(batch: list[tuple[str, str]]) -> set[str]:
        inserts.append(batch)  # one statement each (through SQLAlchemy, or sqlite_fetch)
        return await insert(batch)

    claims._insert = _record  # type: ignore[method-assign]
    assert await claims.claim("taken", "U0")
    asked = ["first", "b", "b", "taken", "c"]
    results = await asyncio.gather(*(claims.claim(key, f"U{i}") for i, key in enumerate(asked)))
    assert results == [True, True, False, False, True]
    if database.dialect == "sqlite":
        assert len(inserts) == 6
    else:
        assert len(inserts) == 3  # "taken", then "first" alone, then the four that waited
    stored = await claims.get("b")
    assert stored is not None and stored.actor_id == "U1"  # the first to ask for it
    assert all([await claims.get(key) for key in ("first", "c")])


async def test_a_claim_that_cannot_be_stored_fails_only_its_own_caller(database: Database) -> None:
    """A row the database refuses fails its caller; the claims batched with it stand."""
    claims = ClaimStore(database)
    results = await asyncio.gather(
        claims.claim("lead", "U1"),
        claims.claim("ok-1", "U1"),
        claims.claim("bad", None),  # type: ignore[arg-type]  # NOT NULL refuses the row
        claims.claim("ok-2", "U1"),
        return_exceptions=True,
    )
    assert results[:2] == [True, True] and results[3] is True
    assert isinstance(results[2], IntegrityError)
    assert await claims.get("bad") is None
    assert await claims.claim("bad", "U2")  # nothing of it was stored
