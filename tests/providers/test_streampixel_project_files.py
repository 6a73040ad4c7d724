"""``GET /projects/{id}``: the processed builds (files) of a project, simulator and client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.errors import Forbidden, ProviderNotFound, ProviderUnavailable
from bot.providers.streampixel import StreampixelClient
from tests.providers.streampixel_fixtures import (
    APPROVED_BUILD,
    CONFIGURATOR_DISABLED,
    REJECTED_BUILD,
    RETAIL,
    SHOWROOM,
    Running,
    running_simulator,
)


@pytest.fixture
async def env() -> AsyncIterator[Running]:
    """A demo simulator on loopback."""
    async with running_simulator() as running:
        yield running


async def test_files_list_approved_and_rejected_builds(env: Running) -> None:
    """Approved builds come with their URL, rejected ones with the objection; pending ones not."""
    env.sim.add_upload(SHOWROOM, "https://b.example.com/p.zip", status="Saving to Repository")
    client = env.client()
    try:
        files = {f.upload_id: f for f in await client.project_files(SHOWROOM)}
    finally:
        await client.aclose()
    assert set(files) == {APPROVED_BUILD, REJECTED_BUILD}
    approved, rejected = files[APPROVED_BUILD], files[REJECTED_BUILD]
    assert (approved.status, approved.objection) == ("Approved", None)
    assert approved.url and approved.url.endswith(".zip")
    assert approved.date is not None and approved.date.tzinfo is not None
    assert (rejected.status, rejected.url) == ("Reject", None) and rejected.objection
    empty = env.client()
    try:
        assert await empty.project_files(RETAIL) == []
    finally:
        await empty.aclose()


async def test_errors_map_to_the_shared_tree(env: Running) -> None:
    """A disabled project is Forbidden, an unknown one ProviderNotFound."""
    client = env.client()
    try:
        with pytest.raises(Forbidden):
            await client.project_files(CONFIGURATOR_DISABLED)
        with pytest.raises(ProviderNotFound):
            await client.project_files("0" * 24)
    finally:
        await client.aclose()


async def test_a_reply_without_files_is_unexpected() -> None:
    """An answer in another shape (no ``files`` list) is not taken as 'no builds'."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "p", "name": "x"})

    http = httpx.AsyncClient(base_url="https://sp.test", transport=httpx.MockTransport(handler))
    # A realistic key: every key is masked in every log line for the whole process.
    client = StreampixelClient(http, api_key="spx-test-key-0123456789", user_id="u" * 24)
    try:
        with pytest.raises(ProviderUnavailable):
            await client.project_files("p")
    finally:
        await client.aclose()
