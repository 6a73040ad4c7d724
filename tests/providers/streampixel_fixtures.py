"""Helpers for the Streampixel tests: a fake clock, a webhook receiver, a running simulator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.providers._http import RetryPolicy
from bot.providers.streampixel import StreampixelClient
from bot.sandbox.streampixel import (
    DEMO_API_KEY,
    DEMO_USER_ID,
    StageTimings,
    StreampixelSimulator,
    create_app,
)
from bot.serving import serve_in_background

SHOWROOM = "664f1a2b3c4d5e6f7a8b9c0d"
CONFIGURATOR_DISABLED = "664f1a2b3c4d5e6f7a8b9c0e"
RETAIL = "664f1a2b3c4d5e6f7a8b9c0f"
PARTNER_OTHER_USER = "664f1a2b3c4d5e6f7a8b9c10"
APPROVED_BUILD = "665a2b3c4d5e6f7a8b9c0e1f"
REJECTED_BUILD = "665a2b3c4d5e6f7a8b9c0e20"
BUILD_URL = "https://builds.example.com/showroom/v1.2.0.zip"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


async def no_sleep(seconds: float) -> None:
    """A sleep that returns at once."""


@dataclass
class RecordingSleep:
    """A sleep that records what it was asked to wait."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class WebhookReceiver:
    """A webhook endpoint that records every POST and answers ``status``."""

    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        """The receiver as an ASGI app serving ``POST /hooks``."""

        async def hook(request: Request) -> Response:
            self.received.append(await request.json())
            return JSONResponse({"received": True}, status_code=self.status)

        return Starlette(routes=[Route("/hooks", hook, methods=["POST"])])

    @property
    def events(self) -> list[str]:
        """The ``event`` of each received payload, in order."""
        return [body["event"] for body in self.received]


@dataclass
class Running:
    """A simulator served on loopback, with its base URL."""

    sim: StreampixelSimulator
    base_url: str
    clock: FakeClock

    def client(
        self,
        *,
        api_key: str = DEMO_API_KEY,
        user_id: str = DEMO_USER_ID,
        retry: RetryPolicy | None = None,
    ) -> StreampixelClient:
        """A client on a fresh ``httpx.AsyncClient`` pointed at the simulator."""
        http = httpx.AsyncClient(base_url=self.base_url, timeout=5.0)
        return StreampixelClient(
            http, api_key=api_key, user_id=user_id, retry=retry, sleep=no_sleep
        )


def demo_simulator(webhook_url: str | None = None, **kwargs: Any) -> StreampixelSimulator:
    """The demo-seeded simulator with instant stages and a :class:`FakeClock`."""
    kwargs.setdefault("clock", FakeClock())
    kwargs.setdefault("timings", StageTimings.instant())
    return StreampixelSimulator.with_demo_data(webhook_url, seed=7, **kwargs)


@contextlib.asynccontextmanager
async def running_simulator(
    webhook_url: str | None = None, sim: StreampixelSimulator | None = None
) -> AsyncIterator[Running]:
    """Serve ``sim`` (default: :func:`demo_simulator`) on loopback for the block."""
    if sim is None:
        sim = demo_simulator(webhook_url)
    clock = sim.clock
    assert isinstance(clock, FakeClock)
    async with serve_in_background(create_app(sim)) as server:
        yield Running(sim, f"{server.url}/pixelStripeApi", clock)


@contextlib.asynccontextmanager
async def webhook_receiver(status: int = 200) -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """Serve a :class:`WebhookReceiver`; yields it and its hook URL."""
    receiver = WebhookReceiver(status)
    async with serve_in_background(receiver.app()) as server:
        yield receiver, f"{server.url}/hooks"
