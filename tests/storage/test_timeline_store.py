"""The release timeline: live and previous live builds, decision stamps, project names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.timeline import VIA_DISTRIBUTE, VIA_PROVIDER, VIA_ROLLBACK, TimelineStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


async def test_no_live_rows_means_nothing_is_known_to_be_live(database: Database) -> None:
    """A project the bot never saw go live has neither a live nor a previous build."""
    state = await TimelineStore(database).live_state("p1")
    assert (state.current, state.previous) == (None, None)


async def test_the_bots_distribution_and_its_webhook_are_one_stay_on_air(
    database: Database,
) -> None:
    """The bot's row and the confirming webhook merge; who made it live is kept."""
    store = TimelineStore(database)
    await store.record_live("p1", "A", via=VIA_PROVIDER, actor_id=None, source="webhook", at=at(0))
    await store.record_live(
        "p1", "B", via=VIA_DISTRIBUTE, actor_id="U1", source="button", at=at(10)
    )
    await _run(database, store.live_write("p1", "B", at(10.1)))
    state = await store.live_state("p1")
    assert state.current is not None and state.previous is not None
    assert (state.current.upload_id, state.current.by, state.current.since) == ("B", "U1", at(10))
    assert (state.current.via, state.current.source) == (VIA_DISTRIBUTE, "button")
    assert (state.previous.upload_id, state.previous.by, state.previous.via) == (
        "A",
        None,
        VIA_PROVIDER,
    )


async def test_a_late_webhook_is_ordered_by_its_event_time(database: Database) -> None:
    """A build.distributing that arrives after a rollback does not make its build live again."""
    store = TimelineStore(database)
    await store.record_live("p1", "A", via=VIA_DISTRIBUTE, actor_id="U1", source="slash", at=at(0))
    await store.record_live("p1", "B", via=VIA_DISTRIBUTE, actor_id="U1", source="slash", at=at(5))
    await store.record_live("p1", "A", via=VIA_ROLLBACK, actor_id="U2", source="button", at=at(9))
    # B's own webhook, timestamped just after its distribution, arrives last.
    await _run(database, store.live_write("p1", "B", at(5.2)))
    state = await store.live_state("p1")
    assert state.current is not None and state.previous is not None
    assert (state.current.upload_id, state.current.by, state.current.via) == (
        "A",
        "U2",
        VIA_ROLLBACK,
    )
    assert (state.previous.upload_id, state.previous.since) == ("B", at(5))
    states = await store.live_states()
    assert list(states) == ["p1"] and states["p1"] == state


async def test_projects_are_separate(database: Database) -> None:
    """Live builds are per project."""
    store = TimelineStore(database)
    await store.record_live("p1", "A", via=VIA_DISTRIBUTE, actor_id="U1", source="slash", at=at(0))
    await store.record_live("p2", "X", via=VIA_DISTRIBUTE, actor_id="U1", source="slash", at=at(1))
    states = await store.live_states(["p1", "p2", "p3"])
    assert states["p1"].current is not None and states["p1"].current.upload_id == "A"
    assert states["p1"].previous is None
    assert states["p2"].current is not None and states["p2"].current.upload_id == "X"
    assert states["p3"].current is None


async def test_stamps_list_the_decisions_on_one_build_oldest_first(database: Database) -> None:
    """Approvals and the bot's distributions/rollbacks are stamps; webhook rows are not."""
    store = TimelineStore(database)
    await store.record_approval("p1", "A", actor_id="U2", source="button", at=at(1))
    await store.record_live(
        "p1", "A", via=VIA_DISTRIBUTE, actor_id="U1", source="schedule", at=at(2)
    )
    await _run(database, store.live_write("p1", "A", at(2.1)))
    await store.record_live("p1", "A", via=VIA_ROLLBACK, actor_id="U3", source="button", at=at(30))
    await store.record_live("p1", "B", via=VIA_DISTRIBUTE, actor_id="U1", source="button", at=at(9))
    stamps = await store.stamps("p1", "A")
    assert [(s.kind, s.actor_id, s.at, s.source) for s in stamps] == [
        ("approved", "U2", at(1), "button"),
        ("distributed", "U1", at(2), "schedule"),
        ("rolled_back", "U3", at(30), "button"),
    ]
    assert await store.stamps("p2", "A") == []


async def test_project_names_are_upserted(database: Database) -> None:
    """Names are stored, renamed in place, and read back per project."""
    store = TimelineStore(database)
    await store.remember_names({"p1": "Showroom", "p2": "Retail"}, at(0))
    await store.remember_names({"p1": "Showroom Demo"}, at(1))
    assert await store.project_name("p1") == "Showroom Demo"
    assert await store.project_names(["p1", "p2", "p3"]) == {
        "p1": "Showroom Demo",
        "p2": "Retail",
    }
    assert await store.project_name("p3") is None


async def _run(database: Database, write: object) -> None:
    """Run an intake write on its own (as the webhook transaction would)."""
    from storage.db import Write

    assert isinstance(write, Write)
    async with database.session() as session:
        assert isinstance(session, AsyncSession)
        connection = await session.connection()
        await connection.execute(write.statement, [write.params])
