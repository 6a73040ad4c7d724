"""``Database.one``: one statement, committed; on SQLite without a BEGIN round trip."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from storage.coordination import ClaimStore
from storage.db import Database
from storage.roles import RoleStore


def _statements(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0].upper())

    return seen


async def test_a_claim_is_one_insert_committed_and_a_second_claim_loses(database: Database) -> None:
    """The first claim is stored (seen by another connection); the same key again is refused."""
    claims = ClaimStore(database)
    seen = _statements(database)
    sent: list[str] = []
    if database.dialect == "sqlite":  # what reaches SQLite itself (one pooled connection)
        async with database.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.set_trace_callback(lambda sql: sent.append(sql.split()[0].upper()))
    assert await claims.claim("slack-command:t1", "U1")
    if database.dialect == "sqlite":
        # run on the loop's own connection (Database.sqlite_fetch, storage.sqlite_inline)
        # as its own transaction: nothing through SQLAlchemy or the pooled connection
        assert seen == [] and sent == []
    else:
        assert seen == ["INSERT"]  # no ORM flush
    assert not await claims.claim("slack-command:t1", "U2")
    stored = await claims.get("slack-command:t1")
    assert stored is not None and stored.actor_id == "U1" and stored.message == ""


async def test_a_failed_statement_leaves_the_connection_usable(database: Database) -> None:
    """After a duplicate key, the next statement on a fresh ``one()`` runs normally."""
    claims = ClaimStore(database)
    assert await claims.claim("k", "U1")
    with pytest.raises(IntegrityError):
        async with database.one() as conn:
            await conn.execute(text("INSERT INTO action_claims (claim_key) VALUES ('k')"))
    roles = RoleStore(database)
    assert await roles.grant("U1", "releaser", "UADMIN")
    assert await roles.roles_of("U1") == {"releaser"}
    await roles.revoke("U1", "releaser")
    assert await roles.roles_of("U1") == set()  # no cache: a revoke counts at once


async def test_a_role_lookup_is_one_select_and_sees_a_grant_made_elsewhere(
    database: Database,
) -> None:
    """roles_of() is one SELECT (on SQLite on the loop's own connection, no BEGIN) and a grant
    or revoke made through another engine (another replica) counts at the next lookup."""
    roles = RoleStore(database)
    if database.dialect == "sqlite":
        other = RoleStore(Database(database.url))
    else:  # the test's private schema, as the fixture's engine sees it
        async with database.read() as conn:
            schema = (await conn.execute(text("SHOW search_path"))).scalar_one()
        settings = {"server_settings": {"search_path": schema}}
        other = RoleStore(Database(database.url, connect_args=settings))
    try:
        sent: list[str] = []
        if database.dialect == "sqlite":
            async with database.engine.connect() as conn:
                driver = (await conn.get_raw_connection()).driver_connection
                await driver.set_trace_callback(lambda sql: sent.append(sql.split()[0].upper()))
        assert await roles.roles_of("U9") == set()
        if database.dialect == "sqlite":
            assert sent == []  # on the loop's own connection (storage.sqlite_inline)
        assert await other.grant("U9", "admin", "UADMIN")
        assert await roles.roles_of("U9") == {"admin"}
        await other.revoke("U9", "admin")
        assert await roles.roles_of("U9") == set()
    finally:
        await other.db.dispose()


async def test_sqlite_fetch_reports_errors_as_sqlalchemy_does(database: Database) -> None:
    """A statement the driver refuses raises SQLAlchemy's error type, and the pooled
    connection is usable afterwards (SQLite only; elsewhere the method refuses to run)."""
    if database.dialect != "sqlite":
        with pytest.raises(RuntimeError):
            await database.sqlite_fetch("SELECT 1", ())
        return
    with pytest.raises(IntegrityError):
        await database.sqlite_fetch(
            "INSERT INTO action_claims (claim_key, actor_id, claimed_at, message) "
            "VALUES (?, NULL, '2026-01-01 00:00:00', '')",
            ("k",),
        )
    assert await database.sqlite_fetch("SELECT count(*) FROM action_claims", ()) == [(0,)]
