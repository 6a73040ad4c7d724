"""StreamAPI request ids: strictly increasing per key, in process and in the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.providers.streamapi_rid import ClockRidSource, key_digest
from storage.db import Database
from storage.streamapi_rid import DatabaseRidSource

KEY = "APIKEY0123456789"


class FrozenClock:
    """A clock that stays where it is set."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_clock_source_uses_milliseconds_when_time_moves() -> None:
    """With a moving clock, the id is the current time in milliseconds."""
    clock = FrozenClock(1_700_000_000.0)
    source = ClockRidSource(clock)
    assert await source.next_rid(KEY) == 1_700_000_000_000
    clock.now = 1_700_000_001.5
    assert await source.next_rid(KEY) == 1_700_000_001_500


async def test_clock_source_never_repeats_or_goes_back() -> None:
    """A frozen or backwards clock still yields strictly increasing ids."""
    clock = FrozenClock(1_700_000_000.0)
    source = ClockRidSource(clock)
    first = await source.next_rid(KEY)
    assert await source.next_rid(KEY) == first + 1
    clock.now -= 60
    assert await source.next_rid(KEY) == first + 2


async def test_clock_source_keeps_keys_apart() -> None:
    """Each API key has its own sequence."""
    source = ClockRidSource(FrozenClock(1.0))
    assert await source.next_rid("A") == 1000
    assert await source.next_rid("B") == 1000
    assert await source.next_rid("A") == 1001


async def test_clock_source_concurrent_callers_get_distinct_ids() -> None:
    """Many concurrent callers on a frozen clock all get different, consecutive ids."""
    source = ClockRidSource(FrozenClock(5.0))
    rids = await asyncio.gather(*(source.next_rid(KEY) for _ in range(200)))
    assert sorted(rids) == list(range(5000, 5200))


async def test_clock_source_repr_hides_keys() -> None:
    """The repr names no API key."""
    source = ClockRidSource()
    await source.next_rid(KEY)
    assert KEY not in repr(source)


async def test_database_source_increases_and_continues_after_restart(database: Database) -> None:
    """A new source on the same database continues above the old mark even if the clock fell."""
    clock = FrozenClock(1_700_000_000.0)
    first = DatabaseRidSource(database, clock)
    assert await first.next_rid(KEY) == 1_700_000_000_000
    assert await first.next_rid(KEY) == 1_700_000_000_001
    clock.now = 1_600_000_000.0  # the restarted process has a clock behind the mark
    restarted = DatabaseRidSource(database, clock)
    assert await restarted.next_rid(KEY) == 1_700_000_000_002
    clock.now = 1_800_000_000.0
    assert await restarted.next_rid(KEY) == 1_800_000_000_000
    assert await restarted.last_rid(KEY) == 1_800_000_000_000


async def test_database_source_concurrent_callers_get_distinct_ids(database: Database) -> None:
    """Concurrent callers on two sources (two "replicas") never receive equal ids."""
    clock = FrozenClock(1_700_000_000.0)
    a, b = DatabaseRidSource(database, clock), DatabaseRidSource(database, clock)
    rids = await asyncio.gather(*(src.next_rid(KEY) for _ in range(15) for src in (a, b)))
    assert len(set(rids)) == len(rids) == 30
    assert sorted(rids) == list(range(1_700_000_000_000, 1_700_000_000_030))
    assert await a.last_rid(KEY) == max(rids)


async def test_database_source_stores_only_a_digest_of_the_key(database: Database) -> None:
    """The table holds the key's SHA-256, never the key itself; keys do not share marks."""
    source = DatabaseRidSource(database, FrozenClock(2.0))
    await source.next_rid(KEY)
    assert await source.next_rid("OTHERKEY") == 2000
    async with database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key_sha256, last_rid FROM streamapi_rid"))).all()
    assert {row[0] for row in rows} == {key_digest(KEY), key_digest("OTHERKEY")}
    assert all(KEY not in row[0] for row in rows)
    assert await source.last_rid("never-used") is None
    assert KEY not in repr(source)
