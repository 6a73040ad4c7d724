"""Helpers for the StreamAPI tests: a clock, a served simulator, a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from bot.providers._http import RetryPolicy
from bot.providers.streamapi import StreamAPIClient
from bot.providers.streamapi_rid import RidSource
from bot.sandbox.streamapi import BASE_PATH, StreamAPISimulator, create_app
from bot.sandbox.streamapi_state import DEMO_API_KEY, DEMO_SECRET
from bot.serving import serve_in_background

T0 = 1_700_000_000.0
#: The credentials of the public test vectors (providers.md §3.1).
MOCK_KEY = "APIKEY0123456789"
MOCK_SECRET = "SECRETKEY0123456789"


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class Sleeps:
    """An injected no-op sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def xml(body: str) -> bytes:
    """A StreamAPI-style reply document."""
    return f'<?xml version="1.0" encoding="UTF-8"?><response>{body}</response>'.encode()


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    sleep: Sleeps | None = None,
    rids: RidSource | None = None,
    api_key: str = MOCK_KEY,
    secret: str = MOCK_SECRET,
) -> StreamAPIClient:
    """A client whose HTTP goes to ``handler`` through ``httpx.MockTransport``."""
    client = httpx.AsyncClient(
        base_url="http://api.streamapi.test/service", transport=httpx.MockTransport(handler)
    )
    return StreamAPIClient(
        client,
        api_key=api_key,
        secret=secret,
        rids=rids,
        retry=RetryPolicy(attempts=3, base_delay=0.1),
        sleep=sleep or Sleeps(),
    )


@asynccontextmanager
async def served(sim: StreamAPISimulator) -> AsyncIterator[str]:
    """Serve ``sim`` on a loopback port; yields the base URL (``…/service``)."""
    async with serve_in_background(create_app(sim)) as server:
        yield server.url + BASE_PATH


@asynccontextmanager
async def client_for(
    base_url: str,
    *,
    api_key: str = DEMO_API_KEY,
    secret: str = DEMO_SECRET,
    rids: RidSource | None = None,
    sleep: Sleeps | None = None,
) -> AsyncIterator[StreamAPIClient]:
    """A real-HTTP client on ``base_url``, closed afterwards."""
    client = StreamAPIClient(
        httpx.AsyncClient(base_url=base_url, timeout=5.0),
        api_key=api_key,
        secret=secret,
        rids=rids,
        sleep=sleep or Sleeps(),
    )
    try:
        yield client
    finally:
        await client.aclose()
