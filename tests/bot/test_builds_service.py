"""BuildService: project names, the shared slot, provider rate limits and the queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.errors import InvalidInput, NotFound
from bot.providers.streampixel import DistributeResult, Project, StreampixelClient
from bot.services.builds import BuildService, SlotBusy, match_project
from storage.builds import FAILED, BuildStore
from storage.db import Database
from tests.providers.streampixel_fixtures import no_sleep

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PROJECTS = [
    Project("664f00000000000000000001", "Showroom Demo", True, "active"),
    Project("664f00000000000000000002", "Showcase", True, "active"),
    Project("664f00000000000000000003", "Retail", False, "inactive"),
    Project("664f00000000000000000004", "retail", True, "active"),
]


def test_projects_match_by_id_exact_name_or_unique_prefix() -> None:
    """An id, a case-insensitive name and a unique prefix each name one project."""
    assert match_project(PROJECTS, "664f00000000000000000002").name == "Showcase"
    assert match_project(PROJECTS, "SHOWR").name == "Showroom Demo"
    assert match_project(PROJECTS, "showcase").name == "Showcase"


def test_ambiguous_names_list_candidates_and_unknown_names_are_not_found() -> None:
    """A shared prefix or a name used twice lists candidates; no match is NotFound."""
    with pytest.raises(InvalidInput, match=r"Showroom Demo .*Showcase"):
        match_project(PROJECTS, "show")
    with pytest.raises(InvalidInput, match="664f00000000000000000003"):
        match_project(PROJECTS, "Retail")
    with pytest.raises(NotFound):
        match_project(PROJECTS, "gallery")


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def client(handler: httpx.MockTransport) -> StreampixelClient:
    """A Streampixel client over ``handler``."""
    http = httpx.AsyncClient(base_url="https://sp.test/pixelStripeApi", transport=handler)
    return StreampixelClient(http, api_key="k" * 32, user_id="a" * 24, sleep=no_sleep)


async def test_provider_rate_limit_blocks_the_shared_slot(database: Database) -> None:
    """A 429 the bot did not foresee marks the slot busy for the wait Streampixel names."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content)["uploadId"])
        return httpx.Response(429, json={"message": "Rate limit exceeded. Try again in 2 minutes."})

    clock = Clock()
    service = BuildService(client(httpx.MockTransport(answer)), BuildStore(database), clock)
    assert await service.distribute("p1", "u1") == SlotBusy(T0 + timedelta(minutes=2))
    clock.now = T0 + timedelta(minutes=1)
    assert await service.distribute("p1", "u2") == SlotBusy(T0 + timedelta(minutes=2))
    assert calls == ["u1"]
    assert await service.next_distribute_slot() == T0 + timedelta(minutes=2)


async def test_queued_distribution_that_fails_is_recorded_and_not_retried(
    database: Database,
) -> None:
    """A queued distribution Streampixel refuses ends as failed with its words."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(404, json={"message": "File not found in project"})

    clock = Clock()
    store = BuildStore(database)
    service = BuildService(client(httpx.MockTransport(answer)), store, clock)
    await service.queue("p1", "gone", action="distribute", requested_by="U1", channel_id="C1")
    run = await service.run_next_due()
    assert run is not None and (run.outcome, run.message) == ("failed", "File not found in project")
    assert await service.run_next_due() is None
    [row] = await store.queued()
    assert row.state == FAILED and len(calls) == 1


async def test_queued_distribution_waits_for_the_slot(database: Database) -> None:
    """A due item whose slot is still used is put back for the slot's opening."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"message": "Distribution triggered"})

    clock = Clock()
    store = BuildStore(database)
    service = BuildService(client(httpx.MockTransport(answer)), store, clock)
    assert await service.distribute("p1", "u1") == DistributeResult("u1", "Distribution triggered")
    await store.enqueue(
        project_id="p1",
        upload_id="u2",
        action="distribute",
        requested_by="U1",
        channel_id="C1",
        run_at=T0,
        now=T0,
    )
    run = await service.run_next_due()
    assert run is not None and run.outcome == "rescheduled"
    assert run.next_at == T0 + timedelta(minutes=2)
    assert await service.run_next_due() is None
    clock.now = T0 + timedelta(minutes=2)
    run = await service.run_next_due()
    assert run is not None and run.outcome == "ok"


async def test_the_slot_window_follows_the_setting(database: Database) -> None:
    """With a 30 s window (STREAMPIXEL_RATE_WINDOW_SECONDS), the next slot opens 30 s later."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content)["uploadId"])
        return httpx.Response(200, json={"message": "Distribution triggered"})

    clock = Clock()
    service = BuildService(
        client(httpx.MockTransport(answer)),
        BuildStore(database),
        clock,
        window=timedelta(seconds=30),
    )
    assert not isinstance(await service.distribute("p1", "u1"), SlotBusy)
    assert await service.distribute("p1", "u2") == SlotBusy(T0 + timedelta(seconds=30))
    clock.now = T0 + timedelta(seconds=30)
    assert not isinstance(await service.distribute("p1", "u2"), SlotBusy)
    assert calls == ["u1", "u2"]
