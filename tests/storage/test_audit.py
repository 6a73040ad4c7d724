"""The audit log repository against real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.audit import ACTIONS, OUTCOMES, AuditEvent, AuditFilters
from bot.errors import Conflict, InvalidInput
from storage.audit import AuditLog
from storage.audit_chain import chain_hash, content_json, row_hash
from storage.audit_export import load_export
from storage.audit_keys import KeyRing, generate_key
from storage.db import Database

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def event(**overrides: Any) -> AuditEvent:
    """An ok distribute by U1 at T0 unless overridden."""
    values: dict[str, Any] = {
        "action": "distribute",
        "outcome": "ok",
        "actor_id": "U1",
        "actor_name": "ada",
        "team_id": "T1",
        "channel_id": "C1",
        "source": "slash_command",
        "provider": "streampixel",
        "target_type": "project",
        "target_id": "proj-1",
        "params": {"uploadId": "up-1"},
        "message": "Build distributed",
        "correlation_id": "corr-1",
        "requested_at": T0,
        "completed_at": T0 + timedelta(seconds=2),
    }
    values.update(overrides)
    return AuditEvent(**values)


async def fill(log: AuditLog, n: int, **overrides: Any) -> list[int]:
    """Append ``n`` events one minute apart and return their ids."""
    ids = []
    for i in range(n):
        record = await log.append(
            event(requested_at=T0 + timedelta(minutes=i), correlation_id=f"c{i}", **overrides)
        )
        ids.append(record.id)
    return ids


async def sql(db: Database, statement: str, **params: Any) -> None:
    """Run raw SQL as an attacker with database access would."""
    async with db.engine.begin() as conn:
        await conn.execute(text(statement), params)


async def test_append_stores_every_field_and_chains(database: Database) -> None:
    """A stored row keeps every field, links to the previous hash, and verifies."""
    log = AuditLog(database)
    first = await log.append(event())
    second = await log.append(event(action="delete", outcome="failed", completed_at=None))
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert first.is_intact() and second.is_intact()
    page = await log.query(AuditFilters())
    assert [r.id for r in page.records] == [second.id, first.id]
    stored = page.records[1]
    assert stored == first
    assert (stored.actor_id, stored.actor_name, stored.team_id, stored.channel_id) == (
        "U1",
        "ada",
        "T1",
        "C1",
    )
    assert stored.requested_at == T0 and stored.completed_at == T0 + timedelta(seconds=2)
    assert page.records[0].completed_at is None
    report = await log.verify()
    assert report.ok and report.rows_checked == 2 and report.head_hash == second.hash


async def test_a_provider_message_no_column_can_hold_is_stored_readably(
    database: Database,
) -> None:
    """A NUL (PostgreSQL refuses it) or a lone surrogate in a provider's words is replaced,
    the row is written, and it verifies."""
    log = AuditLog(database)
    stored = await log.append(event(outcome="failed", message="bad\x00reply\ud800!"))
    assert stored.message == "bad\ufffdreply?!"
    page = await log.query(AuditFilters())
    assert page.records[0].message == "bad\ufffdreply?!"
    assert (await log.verify()).ok


async def test_params_are_scrubbed_of_secrets(database: Database) -> None:
    """Secret-named keys, nested or not, never reach the stored params."""
    log = AuditLog(database)
    record = await log.append(
        event(
            params={
                "api_key": "sk-CANARY1",
                "apiKey": "CANARY2",
                "nested": {"client_secret": "CANARY3", "ok": 1, "list": [{"token": "CANARY4"}]},
                "Password": "CANARY5",
                "uploadId": "up-9",
            }
        )
    )
    stored = (await log.query(AuditFilters())).records[0]
    assert "CANARY" not in stored.params and "CANARY" not in record.params
    assert stored.params_dict["uploadId"] == "up-9"
    assert stored.params_dict["nested"]["ok"] == 1
    assert stored.params_dict["api_key"] == "***"


@pytest.mark.parametrize("action", ACTIONS)
async def test_every_action_lands_with_actor_and_outcome(database: Database, action: str) -> None:
    """Each action type, with each outcome, is stored with the actor and outcome given."""
    log = AuditLog(database)
    for i, outcome in enumerate(OUTCOMES):
        await log.append(
            event(action=action, outcome=outcome, actor_id=f"U{i}", actor_name=f"user{i}")
        )
    for i, outcome in enumerate(OUTCOMES):
        page = await log.query(AuditFilters(actor_id=f"U{i}", action=action))
        assert [(r.action, r.outcome, r.actor_name) for r in page.records] == [
            (action, outcome, f"user{i}")
        ]


async def test_concurrent_writers_never_fork_the_chain(database: Database) -> None:
    """Forty concurrent appends produce one unbroken chain of forty rows."""
    log = AuditLog(database, checkpoint_every=7)
    records = await asyncio.gather(
        *(log.append(event(correlation_id=f"c{i}", actor_id=f"U{i % 5}")) for i in range(40))
    )
    assert len({r.hash for r in records}) == 40
    assert len({r.prev_hash for r in records}) == 40
    report = await log.verify()
    assert report.ok, report.reason
    assert report.rows_checked == 40


async def test_edited_row_is_detected(database: Database) -> None:
    """Changing a stored field is reported at that row."""
    log = AuditLog(database)
    ids = await fill(log, 5)
    await sql(
        database, "UPDATE audit_entries SET outcome = 'ok', actor_id = 'U9' WHERE id = :i", i=ids[2]
    )
    report = await log.verify()
    assert not report.ok and report.first_bad_id == ids[2]
    assert "edited" in report.reason


async def test_edited_and_rehashed_row_is_detected(database: Database) -> None:
    """A row rewritten with a recomputed hash breaks the next row's link."""
    log = AuditLog(database)
    ids = await fill(log, 5)
    page = await log.query(AuditFilters())
    victim = next(r for r in page.records if r.id == ids[2]).as_mapping()
    victim["actor_id"] = "U-forged"
    forged_hash = row_hash(victim)
    await sql(
        database,
        "UPDATE audit_entries SET actor_id = 'U-forged', hash = :h WHERE id = :i",
        h=forged_hash,
        i=ids[2],
    )
    report = await log.verify()
    assert not report.ok and report.first_bad_id == ids[3]
    assert f"row {ids[2]} was rewritten" in report.reason


async def test_deleted_row_is_detected(database: Database) -> None:
    """Deleting a middle row is reported at the row after it."""
    log = AuditLog(database)
    ids = await fill(log, 5)
    await sql(database, "DELETE FROM audit_entries WHERE id = :i", i=ids[1])
    report = await log.verify()
    assert not report.ok and report.first_bad_id == ids[2]
    assert "deleted" in report.reason


async def test_row_inserted_out_of_order_is_detected(database: Database) -> None:
    """A well-formed forged row slipped between two rows is named as inserted."""
    log = AuditLog(database)
    ids = await fill(log, 3)
    # Leave an id gap (as PostgreSQL sequences do) and fill it with a forged row chained to row 2.
    await sql(database, "UPDATE audit_entries SET id = 10 WHERE id = :i", i=ids[2])
    assert (await log.verify()).ok
    row2 = next(r for r in (await log.query(AuditFilters())).records if r.id == ids[1])
    forged = {
        **row2.as_mapping(),
        "actor_id": "U-forged",
        "prev_hash": row2.hash,
        "requested_at": T0,
        "completed_at": None,
    }
    forged["hash"] = chain_hash(row2.hash, content_json(forged))
    forged["id"] = 5
    await sql(
        database,
        "INSERT INTO audit_entries (id, requested_at, completed_at, actor_id, actor_name, team_id,"
        " channel_id, source, provider, action, target_type, target_id, params, outcome, message,"
        " correlation_id, prev_hash, hash) VALUES (:id, :requested_at, :completed_at, :actor_id,"
        " :actor_name, :team_id, :channel_id, :source, :provider, :action, :target_type,"
        " :target_id, :params, :outcome, :message, :correlation_id, :prev_hash, :hash)",
        **{**forged, "requested_at": T0.replace(tzinfo=None), "completed_at": None},
    )
    report = await log.verify()
    assert not report.ok and report.first_bad_id == 5
    assert "inserted out of order" in report.reason


async def test_truncated_tail_is_detected_through_checkpoints(database: Database) -> None:
    """Deleting the newest rows past a checkpoint is reported as truncation."""
    log = AuditLog(database, checkpoint_every=5)
    ids = await fill(log, 12)
    await sql(database, "DELETE FROM audit_entries WHERE id >= :i", i=ids[8])
    report = await log.verify()
    assert not report.ok and report.bad_checkpoint_id is not None
    assert "truncated" in report.reason and str(ids[9]) in report.reason


async def test_explicit_checkpoint_covers_the_latest_row(database: Database) -> None:
    """After checkpoint(), even removing only the last row is detected."""
    log = AuditLog(database, checkpoint_every=1_000)
    ids = await fill(log, 3)
    checkpoint = await log.checkpoint()
    assert checkpoint is not None and checkpoint.entry_id == ids[-1]
    assert await log.checkpoint() is None
    await sql(database, "DELETE FROM audit_entries WHERE id = :i", i=ids[-1])
    report = await log.verify()
    assert not report.ok and "truncated" in report.reason


async def test_edited_checkpoint_is_detected(database: Database) -> None:
    """Rewriting a checkpoint breaks the checkpoint chain."""
    log = AuditLog(database, checkpoint_every=2)
    await fill(log, 4)
    await sql(database, "UPDATE audit_checkpoints SET entry_id = entry_id + 1 WHERE id = 1")
    report = await log.verify()
    assert not report.ok and report.bad_checkpoint_id == 1


async def test_query_filters_paging_and_summary(database: Database) -> None:
    """Filters narrow by every field, pages are newest first, and the summary counts."""
    log = AuditLog(database)
    await fill(log, 7, actor_id="U1", target_id="proj-1")
    await fill(
        log,
        3,
        actor_id="U2",
        actor_name="bob",
        target_id="vid-9",
        action="delete",
        provider="streamstack",
        outcome="denied",
    )
    by_actor = await log.query(AuditFilters(actor_id="U1"), limit=5)
    assert len(by_actor.records) == 5 and by_actor.has_more
    times = [r.requested_at for r in by_actor.records]
    assert times == sorted(times, reverse=True)
    page2 = await log.query(AuditFilters(actor_id="U1", page=2), limit=5)
    assert len(page2.records) == 2 and not page2.has_more
    assert not {r.id for r in page2.records} & {r.id for r in by_actor.records}
    window = AuditFilters(
        target="proj-1", since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)
    )
    assert [r.requested_at for r in (await log.query(window)).records] == [
        T0 + timedelta(minutes=3),
        T0 + timedelta(minutes=2),
    ]
    for filters in (
        AuditFilters(provider="streamstack"),
        AuditFilters(outcome="denied"),
        AuditFilters(action="delete"),
    ):
        assert {r.actor_id for r in (await log.query(filters)).records} == {"U2"}
    summary = await log.summary(AuditFilters())
    assert summary.total == 10
    assert summary.by_action == [("distribute", 7), ("delete", 3)]
    assert summary.by_actor == [("U1", "ada", 7), ("U2", "bob", 3)]
    assert summary.by_outcome == [("ok", 7), ("denied", 3)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_parses_back_to_the_same_rows(database: Database, fmt: str) -> None:
    """An export read back gives exactly the stored rows, each still intact."""
    log = AuditLog(database)
    await fill(log, 4)
    await log.append(
        event(
            provider=None,
            target_type=None,
            target_id=None,
            completed_at=None,
            message='quote " comma , newline \n ünïcode',
            params={"a": [1, 2]},
        )
    )
    await log.append(event(actor_id="U2"))
    out = io.StringIO()
    count = await log.export(AuditFilters(actor_id="U1"), fmt, out)  # type: ignore[arg-type]
    assert count == 5
    stored = [r async for r in log.iter_records(AuditFilters(actor_id="U1"))]
    loaded = load_export(out.getvalue())
    assert loaded == stored
    assert all(r.is_intact() for r in loaded)
    if fmt == "json":
        assert json.loads(out.getvalue())["filters"] == "user=U1"


def test_load_export_rejects_other_files() -> None:
    """Text that is not an audit export raises InvalidInput."""
    with pytest.raises(InvalidInput):
        load_export("a,b\n1,2\n")
    with pytest.raises(InvalidInput):
        load_export('{"entries": []}')


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
async def test_purge_needs_an_export_and_keeps_the_chain_verifiable(
    database: Database, keyed: bool
) -> None:
    """Purging without a covering export is refused and audited; with one it succeeds."""
    keys = KeyRing.from_texts(generate_key()) if keyed else None
    log = AuditLog(database, checkpoint_every=3, keys=keys)
    await fill(log, 10)
    before = T0 + timedelta(minutes=6)
    purge = event(
        action="audit.purge",
        source="cli",
        actor_id="cli:root",
        provider=None,
        target_type=None,
        target_id=None,
        params={},
    )

    partial = io.StringIO()
    await log.export(AuditFilters(until=T0 + timedelta(minutes=3)), "csv", partial)
    with pytest.raises(InvalidInput, match="export"):
        await log.purge(before, load_export(partial.getvalue()), purge)
    refused = (await log.query(AuditFilters(action="audit.purge"))).records
    assert [r.outcome for r in refused] == ["denied"]

    full = io.StringIO()
    await log.export(AuditFilters(until=before), "json", full)
    report = await log.purge(before, load_export(full.getvalue()), purge)
    assert report.purged == 6
    remaining = [r async for r in log.iter_records(AuditFilters())]
    assert min(r.requested_at for r in remaining if r.action == "distribute") == before
    done = (await log.query(AuditFilters(action="audit.purge", outcome="ok"))).records
    assert done[0].params_dict["purged"] == 6 and done[0].actor_id == "cli:root"
    verified = await log.verify()
    assert verified.ok, verified.reason
    await fill(log, 2)
    again = await log.verify()
    assert again.ok, again.reason
    assert again.keyed_rows == (again.rows_checked if keyed else 0)


async def test_purge_refuses_a_broken_chain(database: Database) -> None:
    """A chain that does not verify is never purged."""
    log = AuditLog(database)
    ids = await fill(log, 4)
    everything = io.StringIO()
    await log.export(AuditFilters(), "csv", everything)
    await sql(database, "UPDATE audit_entries SET message = 'x' WHERE id = :i", i=ids[1])
    purge = event(action="audit.purge", source="cli", actor_id="cli:root")
    with pytest.raises(Conflict):
        await log.purge(T0 + timedelta(days=1), load_export(everything.getvalue()), purge)
    async with database.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM audit_entries"))).scalar_one()
    assert count == 5


async def test_tampered_export_does_not_prove_a_purge(database: Database) -> None:
    """An export whose rows were edited does not count as covering them."""
    log = AuditLog(database)
    await fill(log, 3)
    out = io.StringIO()
    await log.export(AuditFilters(), "json", out)
    tampered = out.getvalue().replace('"actor_id": "U1"', '"actor_id": "U7"', 1)
    purge = event(action="audit.purge", source="cli", actor_id="cli:root")
    with pytest.raises(InvalidInput):
        await log.purge(T0 + timedelta(days=1), load_export(tampered), purge)
