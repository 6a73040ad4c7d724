"""StreamAPI request ids across replicas: two app containers, one simulator, one database.

Each replica is a full ``create_app`` container with its own StreamAPI client and its
own database engine on the same database (PostgreSQL: the same schema). They call one
StreamAPI simulator over loopback HTTP at once. StreamAPI refuses a request id that is
not greater than the last one it accepted (code 203), so the ids must reach it in
order across the replicas, not only within one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.container import Container
from bot.providers.streamapi import Session, StreamAPIClient
from bot.sandbox.streamapi import BASE_PATH, StreamAPISimulator
from bot.sandbox.streamapi import create_app as create_streamapi
from bot.sandbox.streamapi_state import DEMO_API_KEY, DEMO_SECRET
from bot.serving import serve_in_background
from storage.db import Database
from tests.conftest import POSTGRES_URL
from tests.harness import make_settings

CALLS = 200
ALICE = "1000016132"  # a demo host of the demo account


async def same_database(database: Database) -> Database:
    """A second engine on ``database``'s data, as another replica would open it."""
    if database.dialect == "sqlite":
        return Database(database.url)
    async with database.engine.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    return Database(database.url, connect_args={"server_settings": {"search_path": schema}})


@contextlib.asynccontextmanager
async def replica(database: Database, streamapi_url: str) -> AsyncIterator[Container]:
    """One app container (its own StreamAPI client) on ``database``; closed afterwards."""
    settings = make_settings(
        database.url,
        "http://127.0.0.1:9/api/",  # no Slack call is made here
        STREAMAPI_KEY=DEMO_API_KEY,
        STREAMAPI_SECRET=DEMO_SECRET,
        STREAMAPI_BASE_URL=streamapi_url,
    )
    container: Container = create_app(settings, db=database).state.container
    try:
        yield container
    finally:
        await container.aclose()


def mixed_calls(client: StreamAPIClient, n: int) -> Awaitable[Any]:
    """Call number ``n``: every third a ``create_session`` (a write), the rest reads."""
    if n % 3 == 0:
        return client.create_session(username=f"host{n}")
    reads: list[Callable[[], Awaitable[Any]]] = [
        client.themes,
        lambda: client.live_session(ALICE),
        client.live_sessions,
        lambda: client.private_hostid(ALICE),
    ]
    return reads[n % 4]()


async def run_mixed(clients: list[StreamAPIClient]) -> list[BaseException | Any]:
    """``CALLS`` calls at once, spread over ``clients`` in turn; results or exceptions."""
    return await asyncio.gather(
        *(mixed_calls(clients[n % len(clients)], n) for n in range(CALLS)),
        return_exceptions=True,
    )


def refused(results: list[BaseException | Any]) -> list[str]:
    """The calls that failed, described."""
    return [repr(r) for r in results if isinstance(r, BaseException)]


def assert_increasing(sim: StreamAPISimulator) -> None:
    """Every request reached the simulator in rid order and none was refused."""
    assert [c.code for c in sim.calls if c.code] == []
    rids = [int(c.rid or 0) for c in sim.calls]
    assert all(a < b for a, b in itertools.pairwise(rids)), rids
    assert len(sim.calls) == CALLS


@dataclass
class Jitter:
    """Holds each request 0-5 ms before the app sees it, as a network path would."""

    app: Any
    random: Random = field(default_factory=lambda: Random(15))

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(self.random.uniform(0, 0.005))
        await self.app(scope, receive, send)


@pytest.fixture
async def streamapi() -> AsyncIterator[tuple[StreamAPISimulator, str]]:
    """The demo StreamAPI simulator behind a jittery path on loopback HTTP, and its base URL."""
    sim = StreamAPISimulator.with_demo_data()
    async with serve_in_background(Jitter(create_streamapi(sim))) as server:
        yield sim, server.url + BASE_PATH


@pytest.mark.skipif(not POSTGRES_URL, reason="STREAMOPS_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_two_replicas_send_request_ids_in_order(
    database: Database, streamapi: tuple[StreamAPISimulator, str]
) -> None:
    """200 mixed calls at once over two replicas: none fails, rids arrive strictly increasing.

    PostgreSQL only: the README supports several replicas on PostgreSQL; SQLite is for
    a single process (see the test below).
    """
    sim, url = streamapi
    other = await same_database(database)
    try:
        async with replica(database, url) as one, replica(other, url) as two:
            assert one.streamapi is not None and two.streamapi is not None
            results = await run_mixed([one.streamapi, two.streamapi])
        assert refused(results) == []
        assert_increasing(sim)
        sessions = [r for r in results if isinstance(r, Session)]
        assert len({s.public_hostid for s in sessions}) == len(sessions) == len(range(0, CALLS, 3))
    finally:
        await other.dispose()


async def test_one_replica_sends_request_ids_in_order(
    database: Database, streamapi: tuple[StreamAPISimulator, str]
) -> None:
    """200 mixed calls at once on one replica (SQLite's only setup): none fails, rids in order."""
    sim, url = streamapi
    async with replica(database, url) as one:
        assert one.streamapi is not None
        results = await run_mixed([one.streamapi])
    assert refused(results) == []
    assert_increasing(sim)
