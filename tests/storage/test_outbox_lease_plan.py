"""The outbox lease uses its index on both databases, without table statistics.

The plan is read with ``EXPLAIN`` right after a backlog is written and before
anything has run ``ANALYZE`` (PostgreSQL's autovacuum is switched off for the
table so it cannot analyze it behind the test's back). A plan that reads the
outbox table in full (SQLite ``SCAN outbox``, PostgreSQL ``Seq Scan on outbox``)
would make the lease O(backlog); every read of the outbox must be an index
probe. No timing is asserted here: ``bench/outbox_lease.py`` measures it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from storage.db import Database
from storage.outbox import OutboxRow, OutboxStore
from storage.outbox_groups import SUBJECT_INDEX, group_statement
from storage.outbox_lease import INDEX_NAME, heads_statement

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)


async def _backlog(db: Database, rows: int, channels: int) -> None:
    """``rows`` pending rows spread over ``channels`` channels, without ANALYZE."""
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE outbox SET (autovacuum_enabled = false)")
    values = [
        {
            "channel": f"C{i % channels:04d}",
            "subject_key": f"build:{i}",
            "payload": "{}",
            "status": "pending",
            "progress": 0,
            "attempts": 0,
            "next_attempt_at": T0,
            "created_at": T0,
        }
        for i in range(rows)
    ]
    async with db.engine.begin() as conn:
        await conn.execute(insert(OutboxRow), values)


async def _plan(db: Database, name: str = "heads") -> str:
    """The database's plan for the heads query (or a burst query), as one text block."""
    params = {"now": T0, "limit": 8, "channel": "C0001", "subject_key": "build:1", "after": 0}
    explain = "EXPLAIN" if db.dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    if name == "heads":
        query = heads_statement(db.dialect)
    else:
        query = group_statement(name, db.dialect)
        params = {k: v for k, v in params.items() if f":{k}" in query.text}
    statement = text(f"{explain} {query.text}").bindparams(*query._bindparams.values())
    async with db.engine.connect() as conn:
        result = await conn.execute(statement, params)
        return "\n".join(str(row[-1]) for row in result.all())


async def test_the_lease_query_probes_the_pending_index_and_never_scans_the_outbox(
    database: Database,
) -> None:
    """2,000 pending rows in 20 channels, no statistics: index probes only."""
    await _backlog(database, rows=2000, channels=20)
    plan = await _plan(database)
    assert INDEX_NAME in plan, plan
    if database.dialect == "postgresql":
        assert not re.search(r"Seq Scan on outbox", plan), plan
        assert plan.count(f"Index Only Scan using {INDEX_NAME}") >= 2, plan
        assert "Index Scan using outbox_pkey on outbox r" in plan, plan
        assert "Join" not in plan, plan
    else:
        lines = plan.splitlines()
        outbox_reads = [line for line in lines if re.match(r"(SCAN|SEARCH) (o|r)\b", line)]
        # Every read of the outbox goes through the pending index or the primary key;
        # the one SCAN is the first channel's ORDER BY channel LIMIT 1 (a single row).
        assert outbox_reads == [
            f"SCAN o USING INDEX {INDEX_NAME}",
            f"SEARCH o USING INDEX {INDEX_NAME} (channel>?)",
            f"SEARCH o USING INDEX {INDEX_NAME} (channel=?)",
            "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)",
        ], plan


async def test_the_lease_behind_a_leased_head_finds_the_next_channel(database: Database) -> None:
    """The backlog's oldest head is leased: the next channel's head is found, then none."""
    await _backlog(database, rows=500, channels=2)
    store = OutboxStore(database)
    first = await store.lease("a", T0, timedelta(seconds=30))
    second = await store.lease("b", T0, timedelta(seconds=30))
    assert first is not None and second is not None
    assert (first.row.channel, second.row.channel) == ("C0000", "C0001")
    assert (first.row.id, second.row.id) == (1, 2)
    assert await store.lease("c", T0, timedelta(seconds=30)) is None


async def test_the_burst_queries_probe_a_pending_index_and_never_scan_the_outbox(
    database: Database,
) -> None:
    """Backlog count, a subject's rows, rows not yet digested: each an index probe, no stats."""
    await _backlog(database, rows=2000, channels=20)
    for name, index in (
        ("backlog", INDEX_NAME),
        ("subject", SUBJECT_INDEX),
        ("undigested", INDEX_NAME),
    ):
        plan = await _plan(database, name)
        assert index in plan, (name, plan)
        if database.dialect == "postgresql":
            assert "Seq Scan on outbox" not in plan, (name, plan)
        else:
            assert re.search(rf"SEARCH o USING (COVERING )?INDEX {index} \(channel=", plan), (
                name,
                plan,
            )
