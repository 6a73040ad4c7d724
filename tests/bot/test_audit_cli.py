"""`streamops audit ...` commands against a real, migrated SQLite database."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.audit import AuditEvent, AuditFilters
from bot.cli_audit import EXIT_OK, EXIT_USAGE, EXIT_VERIFY_FAILED, CliIO, register_cli
from bot.settings import Settings
from storage import migrate
from storage.audit import AuditLog
from storage.audit_export import load_export
from storage.audit_keys import generate_key
from storage.audit_witness import append_head
from storage.db import Database

NOW = datetime(2026, 11, 10, 12, tzinfo=UTC)


class Run:
    """Parses a command line like the lead's bot/cli.py and runs it, capturing output."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.parser = argparse.ArgumentParser(prog="streamops")
        register_cli(self.parser.add_subparsers(dest="command", required=True))
        self.out = io.StringIO()
        self.err = io.StringIO()

    async def __call__(self, *argv: str) -> int:
        self.out.seek(0)
        self.out.truncate()
        self.err.seek(0)
        self.err.truncate()
        args = self.parser.parse_args(["audit", *argv])
        return int(await args.run(args, self.settings, CliIO(self.out, self.err, lambda: NOW)))


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    """A migrated SQLite database holding 6 rows over the last 6 days (U1 x4, U2 x2)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    await migrate.upgrade(database)
    log = AuditLog(database)
    for day in range(6, 0, -1):
        await log.append(
            AuditEvent(
                action="distribute" if day % 2 else "delete",
                outcome="ok" if day > 2 else "failed",
                actor_id="U1" if day > 2 else "U2",
                actor_name="ada" if day > 2 else "bob",
                source="slash_command",
                provider="streampixel",
                target_type="project",
                target_id=f"p{day}",
                requested_at=NOW - timedelta(days=day),
            )
        )
    yield database
    await database.dispose()


@pytest.fixture
def run(db: Database) -> Run:
    """A command runner whose settings point at the test database."""
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s", DATABASE_URL=db.url)
    return Run(settings)


async def test_verify_ok_then_tampered(run: Run, db: Database) -> None:
    """verify exits 0 on an intact chain and 1, naming the row, after an edit."""
    assert await run("verify") == EXIT_OK
    assert "ok: 6 rows verified" in run.out.getvalue()
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entries SET outcome = 'ok' WHERE id = 5"))
    assert await run("verify") == EXIT_VERIFY_FAILED
    assert "first bad sequence number: 5" in run.err.getvalue()
    assert "FAILED (edited at sequence number 5)" in run.err.getvalue()


async def test_verify_with_a_witness_catches_a_tail_deleted_with_its_checkpoints(
    db: Database, tmp_path: Path
) -> None:
    """With a key and a witness file, deleting rows and checkpoints is named as truncation."""
    key = generate_key()
    witness = tmp_path / "witness.jsonl"
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=db.url,
        STREAMOPS_AUDIT_KEY=key,
    )
    run = Run(settings)
    log = AuditLog(db, keys=settings.audit_keys())
    for day in range(3):
        await log.append(
            AuditEvent(
                action="delete",
                outcome="ok",
                actor_id="U3",
                source="cli",
                requested_at=NOW + timedelta(hours=day),
            )
        )
    made = await log.checkpoint()
    assert made is not None
    head = made.witness_head()
    assert head is not None
    append_head(witness, head)
    assert await run("verify", "--witness", str(witness)) == EXIT_OK
    out = run.out.getvalue()
    assert "ok: 9 rows verified (3 keyed, 6 unkeyed)" in out
    assert "unkeyed: 6 rows from before the audit key" in out
    assert "newest witnessed head row 9" in out

    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_entries WHERE id >= 8"))
        await conn.execute(text("DELETE FROM audit_checkpoints"))
    assert await run("verify", "--witness", str(witness)) == EXIT_VERIFY_FAILED
    assert "FAILED (truncated at sequence number 8)" in run.err.getvalue()
    # Without the witness only the rows are left to judge: they look complete.
    assert await run("verify") == EXIT_OK


async def test_checkpoint_command_signs_and_witnesses_the_head(
    db: Database, tmp_path: Path
) -> None:
    """`audit checkpoint` with a key prints the signed head and appends it to the witness file."""
    witness = tmp_path / "witness.jsonl"
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=db.url,
        STREAMOPS_AUDIT_KEY=generate_key(),
        STREAMOPS_AUDIT_WITNESS=str(witness),
    )
    run = Run(settings)
    assert await run("checkpoint") == EXIT_OK
    assert f"witnessed in {witness}" in run.out.getvalue()
    assert await run("verify") == EXIT_OK
    assert "newest witnessed head row 6" in run.out.getvalue()


async def test_query_prints_summary_and_rows(run: Run) -> None:
    """query prints the summary line, then matching rows newest first."""
    assert await run("query", "user=U1", "since=5d") == EXIT_OK
    lines = run.out.getvalue().splitlines()
    assert lines[0] == (
        "3 rows; by action: distribute 2, delete 1; by actor: U1 3; by outcome: ok 3"
    )
    assert [line.split()[0] for line in lines[1:]] == ["#4", "#3", "#2"]


async def test_query_pages(run: Run) -> None:
    """A limited query says how to reach the next page, which holds the rest."""
    assert await run("query", "--limit", "4") == EXIT_OK
    assert "more: add page=2" in run.out.getvalue()
    assert await run("query", "--limit", "4", "page=2") == EXIT_OK
    assert len(run.out.getvalue().splitlines()) == 3


async def test_bad_filter_is_usage_error(run: Run) -> None:
    """A malformed filter exits 2 with the reason on stderr."""
    assert await run("query", "when=yesterday") == EXIT_USAGE
    assert "unknown filter 'when'" in run.err.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_export_writes_a_parseable_file_and_is_audited(
    run: Run, db: Database, tmp_path: Path, fmt: str
) -> None:
    """export writes every matching row to the file and records an audit.export row."""
    out = tmp_path / f"audit.{fmt}"
    assert await run("export", "--format", fmt, "--out", str(out), "user=U2") == EXIT_OK
    loaded = load_export(out.read_text(encoding="utf-8"))
    log = AuditLog(db)
    assert loaded == [r async for r in log.iter_records(AuditFilters(actor_id="U2"))]
    if fmt == "json":
        assert json.loads(out.read_text(encoding="utf-8"))["filters"] == "user=U2"
    audited = (await log.query(AuditFilters(action="audit.export"))).records
    assert audited[0].source == "cli" and audited[0].params_dict["rows"] == 2


async def test_purge_requires_a_covering_export(run: Run, db: Database, tmp_path: Path) -> None:
    """purge is refused (exit 2) with a partial export and succeeds with a full one."""
    partial, full = tmp_path / "partial.csv", tmp_path / "full.json"
    assert await run("export", "--out", str(partial), "until=2026-11-05") == EXIT_OK
    assert await run("export", "--format", "json", "--out", str(full)) == EXIT_OK
    assert await run("purge", "--before", "3d", "--export-file", str(partial)) == EXIT_USAGE
    assert "export" in run.err.getvalue()
    assert await run("purge", "--before", "3d", "--export-file", str(full)) == EXIT_OK
    assert "purged 3 rows (1–3)" in run.out.getvalue()
    assert await run("verify") == EXIT_OK
    log = AuditLog(db)
    purges = (await log.query(AuditFilters(action="audit.purge"))).records
    assert [r.outcome for r in purges] == ["ok", "denied"]


async def test_purge_with_missing_file_is_usage_error(run: Run, tmp_path: Path) -> None:
    """A purge naming a file that does not exist exits 2 and deletes nothing."""
    missing = tmp_path / "nope.csv"
    assert await run("purge", "--before", "1d", "--export-file", str(missing)) == EXIT_USAGE
    assert "cannot read" in run.err.getvalue()
    assert await run("verify") == EXIT_OK
    assert "6 rows verified" in run.out.getvalue()


async def test_checkpoint_then_truncation_fails_verify(run: Run, db: Database) -> None:
    """checkpoint records the head, after which deleting the last row fails verify."""
    assert await run("checkpoint") == EXIT_OK
    assert "checkpoint 1: row 6" in run.out.getvalue()
    assert await run("checkpoint") == EXIT_OK
    assert "nothing new" in run.out.getvalue()
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_entries WHERE id = 6"))
    assert await run("verify") == EXIT_VERIFY_FAILED
    assert "truncated" in run.err.getvalue()
