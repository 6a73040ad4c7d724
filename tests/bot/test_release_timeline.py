"""The release timeline service over a real database and the Streampixel simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.providers.streampixel import Project
from bot.services.release_timeline import ReleaseTimeline
from storage.builds import BuildStore
from storage.db import Database
from storage.timeline import ProjectName, TimelineStore
from tests.providers.streampixel_fixtures import (
    APPROVED_BUILD,
    REJECTED_BUILD,
    RETAIL,
    SHOWROOM,
    Running,
    running_simulator,
)

T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
async def sim() -> AsyncIterator[Running]:
    """The demo simulator on loopback."""
    async with running_simulator() as running:
        yield running


@pytest.fixture
async def timeline(database: Database, sim: Running) -> AsyncIterator[ReleaseTimeline]:
    """The service on a migrated database, reading project data from the simulator."""
    client = sim.client()
    try:
        yield ReleaseTimeline(
            BuildStore(database), TimelineStore(database), lambda: T0, client.project_files
        )
    finally:
        await client.aclose()


async def test_a_fresh_install_learns_builds_from_the_project_data(
    timeline: ReleaseTimeline,
) -> None:
    """Before any upload or webhook, the rollback picker offers the approved build only."""
    choices = await timeline.rollback_choices(SHOWROOM, limit=5)
    assert choices.live is None and choices.last_good is None
    assert [v.upload_id for v in choices.others] == [APPROVED_BUILD]
    page = await timeline.page(SHOWROOM, page=1, per_page=10)
    assert page.total == 2
    assert {v.upload_id: v.readiness.value for v in page.builds} == {
        APPROVED_BUILD: "approved",
        REJECTED_BUILD: "rejected",
    }


async def test_preflight_refuses_known_failures_and_flags_unknown_builds(
    timeline: ReleaseTimeline,
) -> None:
    """Rejected (learnt from project data) and other-project builds are refused; unknown is not."""
    rejected = await timeline.preflight(SHOWROOM, REJECTED_BUILD, learn=True)
    assert rejected.known and rejected.refusal is not None
    assert "rejected" in rejected.refusal.reason
    other = await timeline.preflight(RETAIL, APPROVED_BUILD)
    assert not other.known and other.refusal is not None
    assert "another project" in other.refusal.reason
    unknown = await timeline.preflight(SHOWROOM, "0" * 24, learn=True)
    assert (unknown.known, unknown.refusal) == (False, None)
    fine = await timeline.preflight(SHOWROOM, APPROVED_BUILD)
    assert fine.known and fine.refusal is None


async def test_two_releases_make_the_first_the_last_good_build(
    timeline: ReleaseTimeline, sim: Running
) -> None:
    """After distributing A then B, a rollback offers A first and never B."""
    second = sim.sim.add_upload(SHOWROOM, "https://builds.example.com/b.zip").id
    await timeline.learn_from_provider(SHOWROOM)
    await timeline.made_live(
        SHOWROOM, APPROVED_BUILD, action="distribute", actor_id="U1", source="button"
    )
    await timeline.timeline.record_live(
        SHOWROOM, second, via="distribute", actor_id="U2", source="slash", at=T0.replace(hour=21)
    )
    choices = await timeline.rollback_choices(SHOWROOM, limit=5)
    assert choices.live is not None and choices.live.upload_id == second
    assert choices.last_good is not None and choices.last_good.upload_id == APPROVED_BUILD
    assert choices.others == []
    states = await timeline.live_states()
    assert states[SHOWROOM].current == choices.live


async def test_project_names_are_written_only_when_new_or_changed(database: Database) -> None:
    """``/build projects`` lists every project each time; an unchanged name is not rewritten."""
    times = iter([T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)])
    store = TimelineStore(database)
    service = ReleaseTimeline(BuildStore(database), store, lambda: next(times))
    showroom = Project(SHOWROOM, "Showroom", True, "active")
    await service.remember_projects([showroom])
    await service.remember_projects([showroom])  # unchanged: no write, the clock is not read
    await service.remember_projects([Project(SHOWROOM, "Showroom v2", True, "active")])
    assert await store.project_name(SHOWROOM) == "Showroom v2"
    async with database.read() as conn:
        stored = (await conn.execute(select(ProjectName.__table__.c.updated_at))).scalar_one()  # type: ignore[attr-defined]
    assert stored == T0 + timedelta(hours=1)  # the second write was the rename
