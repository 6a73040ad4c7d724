"""StreamAPI request ids: strictly increasing per key, in process and in the database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.providers.streamapi_rid import ClockRidSource, key_digest
from storage.db import Database
from storage.streamapi_rid import DatabaseRidSource
from tests.conftest import POSTGRES_URL

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


# -- send turns ---------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="STREAMOPS_TEST_POSTGRES_URL is not set: advisory locks untested"
)


async def test_turns_hand_out_increasing_ids(database: Database) -> None:
    """Each turn yields a fresh id above the last, on either backend and for any source."""
    clock = FrozenClock(1_700_000_000.0)
    a, b = DatabaseRidSource(database, clock), DatabaseRidSource(database, clock)
    rids = []
    for source in (a, b, a, b):
        async with source.turn(KEY) as rid:
            rids.append(rid)
    assert rids == [1_700_000_000_000 + n for n in range(4)]
    async with ClockRidSource(clock).turn(KEY) as rid:
        assert rid == 1_700_000_000_000


@needs_postgres
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_second_replica_waits_for_the_turn(database: Database) -> None:
    """While one source holds a key's turn, another's turn for that key waits; then continues."""
    clock = FrozenClock(1_700_000_000.0)
    one, two = DatabaseRidSource(database, clock), DatabaseRidSource(database, clock)
    entered: list[int] = []

    async def second() -> None:
        async with two.turn(KEY) as rid:
            entered.append(rid)

    async with one.turn(KEY) as first:
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.5)  # time enough to take an unheld lock many times over
        assert entered == []
    await waiting
    assert entered == [first + 1]


@needs_postgres
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_turns_of_different_keys_do_not_wait(database: Database) -> None:
    """One key's turn does not hold up another key's."""
    one, two = DatabaseRidSource(database), DatabaseRidSource(database, wait=5)
    async with one.turn(KEY), two.turn("OTHERKEY") as other:
        assert other > 0


@needs_postgres
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_turn_not_granted_in_time_is_a_timeout(database: Database) -> None:
    """A source that cannot get the turn within ``wait`` raises TimeoutError, taking no id."""
    one, impatient = DatabaseRidSource(database), DatabaseRidSource(database, wait=0.2)
    async with one.turn(KEY) as rid:
        with pytest.raises(TimeoutError):
            async with impatient.turn(KEY):
                pytest.fail("the turn was granted while held")  # pragma: no cover
        assert await one.last_rid(KEY) == rid


@needs_postgres
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_turn_held_past_hold_is_ended_by_the_database(database: Database) -> None:
    """A hung holder loses its turn after ``hold``; the other replica proceeds; no error leaks."""
    frozen = DatabaseRidSource(database, hold=0.3)
    other = DatabaseRidSource(database, wait=10)
    # The second turn is granted once the server ends the frozen holder's session.
    async with frozen.turn(KEY) as stuck, other.turn(KEY) as rid:
        assert rid > stuck
    assert await other.last_rid(KEY) == rid
