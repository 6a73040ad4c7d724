"""Delivery workers wake when outbox rows commit: in process, and across replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storage.db import Database
from storage.outbox import OutboxRow
from storage.outbox_wakeup import for_database

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)


def _row() -> OutboxRow:
    return OutboxRow(channel="C1", subject_key="", payload="{}", next_attempt_at=T0, created_at=T0)


async def test_a_committed_outbox_insert_wakes_the_waiting_worker(database: Database) -> None:
    """The waiter returns notified (not by its 30 s fallback) once the insert commits."""
    wakeup = for_database(database)
    waiting = asyncio.create_task(wakeup.wait(30))
    await asyncio.sleep(0)
    async with database.session() as session:
        session.add(_row())
    assert await asyncio.wait_for(waiting, 30) is True


async def test_a_rolled_back_insert_wakes_nobody(database: Database) -> None:
    """An insert that never commits does not wake the worker: its wait ends by the fallback."""
    wakeup = for_database(database)
    before = wakeup.notified
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            session.add(_row())
            await session.flush()
            raise RuntimeError("abort")
    assert await wakeup.wait(0.05) is False
    assert wakeup.notified == before


async def test_postgresql_notifies_the_other_replica(database: Database, db_backend: str) -> None:
    """Replica A listens; replica B (its own engine) inserts; A's worker wakes via NOTIFY."""
    if db_backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    listener = for_database(database)
    listening = asyncio.create_task(listener.listen(database, retry_after=0.1))
    try:
        other = Database(
            str(database.engine.url.render_as_string(hide_password=False)),
            connect_args={"server_settings": {"search_path": await _schema(database)}},
        )
        try:
            for _ in range(100):  # until the LISTEN is in place: B's inserts wake A
                waiting = asyncio.create_task(listener.wait(0.2))
                await asyncio.sleep(0)
                async with other.session() as session:
                    session.add(_row())
                if await waiting:
                    break
            else:
                pytest.fail("no NOTIFY reached the other replica")
            assert for_database(other) is not listener
        finally:
            await other.dispose()
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def _schema(db: Database) -> str:
    async with db.engine.connect() as conn:
        return str((await conn.exec_driver_sql("SELECT current_schema()")).scalar_one())


async def test_the_wake_up_follows_the_commit(database: Database, monkeypatch) -> None:
    """Workers are woken after the driver's COMMIT, not before it (SQLAlchemy's ``commit``
    event runs first): a worker woken earlier leased on another connection and missed the row."""
    wakeup = for_database(database)
    order: list[str] = []
    dialect = database.engine.sync_engine.dialect
    commit = dialect.do_commit

    def do_commit(dbapi_connection: object) -> None:
        commit(dbapi_connection)
        order.append("committed")

    monkeypatch.setattr(dialect, "do_commit", do_commit)
    monkeypatch.setattr(wakeup, "_wake", lambda: order.append("woken"))
    wakeup.bind()
    async with database.session() as session:
        session.add(_row())
    assert order == ["committed", "woken"]


async def test_a_notification_while_nobody_waits_is_not_lost(database: Database) -> None:
    """A commit that lands while every worker is busy (mid-lease) makes the next wait
    return at once, once."""
    wakeup = for_database(database)
    wakeup.bind()
    async with database.session() as session:  # committed while nobody waits
        session.add(_row())
    waiting = asyncio.create_task(wakeup.wait(3600))
    await asyncio.sleep(0)
    assert waiting.done()
    assert waiting.result() is True
    assert await wakeup.wait(0) is False  # kept once, not for ever


async def test_a_notification_wakes_one_worker_and_a_busy_one_passes_it_on(
    database: Database,
) -> None:
    """Two workers wait; a commit wakes one; the second wakes when the first passes it on."""
    wakeup = for_database(database)
    first = asyncio.create_task(wakeup.wait(3600))
    second = asyncio.create_task(wakeup.wait(3600))
    await asyncio.sleep(0)
    async with database.session() as session:
        session.add(_row())
    assert await first is True
    assert not second.done()
    wakeup.pass_on()
    assert await second is True
