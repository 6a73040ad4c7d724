"""Helpers for the StreamStack tests: a fake clock, a served simulator, a webhook sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.providers import streamstack
from bot.providers._http import RetryPolicy
from bot.providers.streamstack import StreamStackClient
from bot.sandbox.streamstack import StageDelays, StreamStackSimulator, create_app
from bot.serving import serve_in_background
from bot.settings import Settings

KEY_A = "ss_test_tenant_a_key"
KEY_B = "ss_test_tenant_b_key"


@dataclass
class FakeClock:
    """A wall clock that only moves when told to."""

    now: float = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


@dataclass
class Sleeps:
    """An injectable sleep that records waits and advances a fake clock."""

    clock: FakeClock | None = None
    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


def make_sim(clock: FakeClock | None = None, **kwargs: object) -> StreamStackSimulator:
    """A simulator with tenants ``a`` (KEY_A) and ``b`` (KEY_B) and instant pipelines."""
    kwargs.setdefault("delays", StageDelays(transcode=0, publish=0))
    return StreamStackSimulator(
        tenants={KEY_A: "a", KEY_B: "b"},
        clock=clock or FakeClock(),
        **kwargs,  # type: ignore[arg-type]
    )


def settings_for(base_url: str, api_key: str | None) -> Settings:
    """Literal settings pointing StreamStack at ``base_url``."""
    return Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="signing-secret",
        STREAMSTACK_API_KEY=api_key,
        STREAMSTACK_BASE_URL=base_url,
        STREAMOPS_HTTP_TIMEOUT=5.0,
    )


@asynccontextmanager
async def served(sim: StreamStackSimulator) -> AsyncIterator[str]:
    """Serve the simulator on a loopback port; yields its base URL."""
    async with serve_in_background(create_app(sim)) as server:
        yield server.url


@asynccontextmanager
async def client_for(
    base_url: str, api_key: str = KEY_A, *, sleep: Sleeps | None = None
) -> AsyncIterator[StreamStackClient]:
    """A client built by ``from_settings`` against ``base_url``, closed afterwards."""
    client = streamstack.from_settings(
        settings_for(base_url, api_key),
        retry=RetryPolicy(attempts=3, base_delay=0.0),
        sleep=sleep or Sleeps(),
    )
    assert client is not None
    try:
        yield client
    finally:
        await client.aclose()


@dataclass
class WebhookSink:
    """A receiving endpoint that records every webhook POST."""

    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def events(self) -> list[str]:
        """The ``event`` names received, in order."""
        return [httpx.Response(200, content=body).json()["event"] for body, _ in self.received]


@asynccontextmanager
async def webhook_sink() -> AsyncIterator[WebhookSink]:
    """Serve a :class:`WebhookSink` on loopback at ``sink.url``."""
    sink = WebhookSink()

    async def receive(request: Request) -> Response:
        sink.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hooks/streamstack", receive, methods=["POST"])])
    async with serve_in_background(app) as server:
        sink.url = f"{server.url}/hooks/streamstack"
        yield sink
