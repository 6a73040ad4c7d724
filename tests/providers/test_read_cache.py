"""The provider read cache: one request per key per TTL, shared by concurrent callers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.errors import Forbidden, ProviderUnavailable
from bot.providers._cache import ReadCache
from bot.providers.streampixel import StreampixelClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_callers_share_one_load_and_reuse_it_until_ttl() -> None:
    """Ten simultaneous gets load once; after the TTL the next get loads again."""
    clock = Clock()
    cache = ReadCache(5, clock=clock)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return loads

    results = await asyncio.gather(*(cache.get("k", load) for _ in range(10)))
    assert results == [1] * 10 and loads == 1
    clock.now += 4.9
    assert await cache.get("k", load) == 1
    clock.now += 0.2
    assert await cache.get("k", load) == 2


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    """A failing load raises for all who waited on it; the next call tries again."""
    cache = ReadCache(5, clock=Clock())
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise ProviderUnavailable("streampixel", "timed out")

    outcomes = await asyncio.gather(
        *(cache.get("k", failing) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, ProviderUnavailable) for o in outcomes) and calls == 1
    with pytest.raises(ProviderUnavailable):
        await cache.get("k", failing)
    assert calls == 2


async def test_zero_ttl_disables_caching() -> None:
    """With ttl 0 every call loads."""
    cache = ReadCache(0)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert [await cache.get("k", load) for _ in range(3)] == [1, 2, 3]


async def test_streampixel_reads_are_cached_per_path_and_writes_are_not() -> None:
    """Repeated project lists cost one GET; each project's stats is its own key; POSTs pass."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("projects-status"):
            return httpx.Response(200, json={"totalProjects": 0, "projects": []})
        if "userStats" in request.url.path:
            return httpx.Response(200, json={"liveUser": 1, "queueUser": 0})
        return httpx.Response(200, json={"message": "Distribution triggered"})

    http = httpx.AsyncClient(base_url="http://sp.test", transport=httpx.MockTransport(handler))
    client = StreampixelClient(
        http,
        api_key="read-cache-test-key-4711",
        user_id="user",
        cache=ReadCache(5, clock=Clock()),
    )
    await asyncio.gather(*(client.list_projects() for _ in range(5)))
    await client.user_stats("a")
    await client.user_stats("a")
    await client.user_stats("b")
    await client.distribute("a", "u1")
    await client.distribute("a", "u1")
    await client.aclose()
    assert seen == [
        "GET /projects/projects-status",
        "GET /projects/userStats/a",
        "GET /projects/userStats/b",
        "POST /projects/distribute-file",
        "POST /projects/distribute-file",
    ]


async def test_stable_errors_named_in_keep_errors_are_cached_like_values() -> None:
    """ "Access denied" is asked once per TTL; a transient failure is still retried at once."""
    clock = Clock()
    cache = ReadCache(5, clock=clock, keep_errors=(Forbidden,))
    calls = 0

    async def denied() -> int:
        nonlocal calls
        calls += 1
        raise Forbidden("streampixel", "Access denied")

    for _ in range(3):
        with pytest.raises(Forbidden):
            await cache.get("stats", denied)
    assert calls == 1
    clock.now += 5.1
    with pytest.raises(Forbidden):
        await cache.get("stats", denied)
    assert calls == 2

    async def down() -> int:
        nonlocal calls
        calls += 1
        raise ProviderUnavailable("streampixel", "timed out")

    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await cache.get("other", down)
    assert calls == 4


async def test_a_kept_error_raised_again_and_again_does_not_grow_its_traceback() -> None:
    """Each caller gets the cached error with its own traceback only: raising the one
    object again must not chain every earlier caller's frames (and their locals) to it
    (under a flood of /build projects this held ~80 MB of frames)."""
    cache = ReadCache(60, clock=Clock(), keep_errors=(Forbidden,))

    async def denied() -> int:
        raise Forbidden("streampixel", "Access denied")

    async def caller(depth: int) -> int:  # a few frames of its own, as a handler has
        if depth:
            return await caller(depth - 1)
        return await cache.get("stats", denied)

    lengths = []
    for _ in range(50):
        with pytest.raises(Forbidden) as raised:
            await caller(3)
        tb, length = raised.value.__traceback__, 0
        while tb is not None:
            tb, length = tb.tb_next, length + 1
        lengths.append(length)
    assert len(set(lengths[1:])) == 1, lengths  # the same depth every time, not growing
    assert lengths[-1] <= lengths[0]
