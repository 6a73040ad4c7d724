"""The StreamAPI client's send turn: bounded by a deadline, and a busy turn fails cleanly."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.errors import ProviderUnavailable
from bot.providers.streamapi import StreamAPIClient
from bot.providers.streamapi_rid import RidSource
from storage.db import Database
from storage.streamapi_rid import DatabaseRidSource
from tests.conftest import POSTGRES_URL
from tests.providers.streamapi_fixtures import MOCK_KEY, MOCK_SECRET, Sleeps, xml

THEMES = xml("<code>0</code><themes/>")
CREATED = xml(
    "<code>0</code><private_hostid>A1B2C3D4E5</private_hostid>"
    "<public_hostid>1000016132</public_hostid>"
)


class Provider:
    """A StreamAPI stand-in on ``httpx.MockTransport``: the first ``hang`` requests never answer."""

    def __init__(self, hang: int = 0) -> None:
        self.hang = hang
        self.paths: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if len(self.paths) <= self.hang:
            await asyncio.Event().wait()  # a provider that accepted the request and hung
        body = CREATED if request.url.path.endswith("/session/create") else THEMES
        return httpx.Response(200, content=body)


def client(provider: Provider, *, rids: RidSource | None = None) -> StreamAPIClient:
    """A client on ``provider`` whose sends may take 0.3 s at most."""
    http = httpx.AsyncClient(
        base_url="http://api.streamapi.test/service", transport=httpx.MockTransport(provider)
    )
    return StreamAPIClient(
        http, api_key=MOCK_KEY, secret=MOCK_SECRET, rids=rids, deadline=0.3, sleep=Sleeps()
    )


async def test_a_hung_send_times_out_and_frees_the_turn() -> None:
    """A send past its deadline fails as a timeout; the next call gets the turn and succeeds."""
    provider = Provider(hang=1)
    api = client(provider)
    try:
        with pytest.raises(ProviderUnavailable, match="timed out"):
            await api.create_session(username="eve")
        assert await api.themes() == []
    finally:
        await api.aclose()
    assert provider.paths == ["/service/session/create", "/service/theme/list"]


@pytest.mark.skipif(not POSTGRES_URL, reason="STREAMOPS_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_turn_held_elsewhere_too_long_fails_as_busy_without_sending(
    database: Database,
) -> None:
    """While another replica holds the key's turn, a write waits ``wait`` and fails, unsent."""
    provider = Provider()
    api = client(provider, rids=DatabaseRidSource(database, wait=0.2))
    try:
        async with DatabaseRidSource(database).turn(MOCK_KEY):
            with pytest.raises(ProviderUnavailable, match="busy"):
                await api.create_session(username="eve")
        assert provider.paths == []
        session = await api.create_session(username="eve")  # the turn is free again
    finally:
        await api.aclose()
    assert session.public_hostid == "1000016132"
    assert provider.paths == ["/service/session/create"]
