"""``streamops audit ...``: keygen, verify, query, export, checkpoint and purge from a shell.

:func:`register_cli` adds the ``audit`` command to the top-level parser; each
leaf sets ``run`` to an async function ``(args, settings) -> exit code``:
0 ok, 1 verification failed, 2 bad usage or refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from bot.audit import AuditEvent, AuditFilters, parse_filters
from bot.errors import BotError, InvalidInput
from bot.services.audit_verify import verify_log
from bot.settings import Settings
from storage.audit import AuditKeyRequired, AuditLog, AuditSummary
from storage.audit_chain import AuditRecord, iso
from storage.audit_export import load_export
from storage.audit_keys import AuditKey, generate_key
from storage.audit_witness import WitnessError, append_head
from storage.db import Database

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class CliIO:
    """Where the commands print (swapped in tests) and the clock they read."""

    out: IO[str]
    err: IO[str]
    now: Callable[[], datetime]


def _default_io() -> CliIO:
    return CliIO(sys.stdout, sys.stderr, lambda: datetime.now(UTC))


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit keygen|verify|query|export|checkpoint|purge`` to ``subparsers``."""
    audit = subparsers.add_parser("audit", help="inspect, export and purge the audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)

    keygen = commands.add_parser("keygen", help="print a new audit key (STREAMOPS_AUDIT_KEY)")
    keygen.set_defaults(run=run_keygen, needs_settings=False)

    verify = commands.add_parser(
        "verify", help="check every row, checkpoint and the witnessed head; exit 1 if tampered"
    )
    verify.add_argument(
        "--witness",
        type=Path,
        help="witness file of published heads (default: STREAMOPS_AUDIT_WITNESS)",
    )
    verify.set_defaults(run=run_verify)

    checkpoint = commands.add_parser("checkpoint", help="record and print the chain head")
    checkpoint.set_defaults(run=run_checkpoint)

    query = commands.add_parser("query", help="list matching rows, newest first")
    query.add_argument("filters", nargs="*", help="e.g. user=U1 action=distribute since=7d")
    query.add_argument("--limit", type=int, default=50, help="rows per page (default 50)")
    query.set_defaults(run=run_query)

    export = commands.add_parser("export", help="write matching rows to a CSV or JSON file")
    export.add_argument("filters", nargs="*", help="e.g. since=2026-01-01 until=2026-02-01")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", type=Path, required=True, help="file to write")
    export.set_defaults(run=run_export)

    purge = commands.add_parser("purge", help="delete old rows already exported")
    purge.add_argument("--before", required=True, help="a date, datetime or age such as 365d")
    purge.add_argument(
        "--export-file", type=Path, required=True, help="an export covering every purged row"
    )
    purge.set_defaults(run=run_purge)


def _filters(args: argparse.Namespace, io: CliIO) -> AuditFilters:
    return parse_filters(" ".join(args.filters), now=io.now())


def _cli_event(action: str, io: CliIO, **fields: object) -> AuditEvent:
    return AuditEvent(
        action=action,
        outcome="ok",
        actor_id=f"cli:{getpass.getuser()}",
        actor_name=getpass.getuser(),
        source="cli",
        requested_at=io.now(),
        **fields,  # type: ignore[arg-type]  # only AuditEvent field names are passed
    )


async def _with_log(
    settings: Settings, io: CliIO, body: Callable[[AuditLog], Awaitable[int]]
) -> int:
    db = Database(settings.database_url)
    try:
        return await body(AuditLog(db, clock=io.now, keys=settings.audit_keys()))
    except (BotError, AuditKeyRequired, WitnessError) as exc:
        print(f"error: {exc}", file=io.err)
        return EXIT_USAGE
    finally:
        await db.dispose()


async def run_keygen(
    args: argparse.Namespace, settings: Settings | None, io: CliIO | None = None
) -> int:
    """Print a new random key and its id (the key goes in STREAMOPS_AUDIT_KEY, nowhere else)."""
    cio = io or _default_io()
    key = generate_key()
    print(key, file=cio.out)
    print(
        f"key id {AuditKey.from_text(key).key_id}: set STREAMOPS_AUDIT_KEY to the line above;"
        " when rotating, move the old key to STREAMOPS_AUDIT_KEYS",
        file=cio.err,
    )
    return EXIT_OK


async def run_verify(args: argparse.Namespace, settings: Settings, io: CliIO | None = None) -> int:
    """Verify rows, checkpoints and the newest witnessed head; print the report; 0 if intact."""
    cio = io or _default_io()
    witness_file: Path | None = getattr(args, "witness", None) or settings.audit_witness

    async def body(log: AuditLog) -> int:
        report = await verify_log(log, witness_file)
        print(report.describe(), file=cio.out if report.ok else cio.err)
        if report.first_bad_id is not None:
            print(f"first bad sequence number: {report.first_bad_id}", file=cio.err)
        for line in report.details():
            print(line, file=cio.out if report.ok else cio.err)
        return EXIT_OK if report.ok else EXIT_VERIFY_FAILED

    return await _with_log(settings, cio, body)


async def run_checkpoint(
    args: argparse.Namespace, settings: Settings, io: CliIO | None = None
) -> int:
    """Record a checkpoint of the chain head, print it, and append it to the witness file."""
    cio = io or _default_io()

    async def body(log: AuditLog) -> int:
        made = await log.checkpoint()
        if made is None:
            print("nothing new since the last checkpoint", file=cio.out)
            return EXIT_OK
        print(f"checkpoint {made.id}: row {made.entry_id} {made.entry_hash}", file=cio.out)
        head = made.witness_head()
        if head is not None:
            print(head.to_json(), file=cio.out)
            if settings.audit_witness is not None:
                await asyncio.to_thread(append_head, settings.audit_witness, head)
                print(f"witnessed in {settings.audit_witness}", file=cio.out)
        return EXIT_OK

    return await _with_log(settings, cio, body)


async def run_query(args: argparse.Namespace, settings: Settings, io: CliIO | None = None) -> int:
    """Print a summary line and one page of matching rows."""
    cio = io or _default_io()

    async def body(log: AuditLog) -> int:
        filters = _filters(args, cio)
        summary = await log.summary(filters)
        page = await log.query(filters, limit=args.limit)
        print(format_summary(summary), file=cio.out)
        for record in page.records:
            print(format_record(record), file=cio.out)
        if page.has_more:
            print(f"more: add page={page.page + 1}", file=cio.out)
        return EXIT_OK

    return await _with_log(settings, cio, body)


async def run_export(args: argparse.Namespace, settings: Settings, io: CliIO | None = None) -> int:
    """Write matching rows to ``--out``; the export itself is audited."""
    cio = io or _default_io()
    fmt: Literal["csv", "json"] = args.format

    async def body(log: AuditLog) -> int:
        filters = _filters(args, cio)
        out = await asyncio.to_thread(args.out.open, "w", encoding="utf-8", newline="")
        try:
            count = await log.export(filters, fmt, out)
        finally:
            out.close()
        await log.append(
            _cli_event(
                "audit.export",
                cio,
                params={"filters": filters.as_text(), "format": fmt, "rows": count},
                completed_at=cio.now(),
            )
        )
        print(f"exported {count} rows to {args.out}", file=cio.out)
        return EXIT_OK

    return await _with_log(settings, cio, body)


async def run_purge(args: argparse.Namespace, settings: Settings, io: CliIO | None = None) -> int:
    """Purge rows requested before ``--before`` if ``--export-file`` covers them all."""
    cio = io or _default_io()

    async def body(log: AuditLog) -> int:
        before = parse_filters(f"since={args.before}", now=cio.now()).since
        assert before is not None  # parse_filters always sets the key it was given
        try:
            text = await asyncio.to_thread(args.export_file.read_text, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read {args.export_file}: {exc.strerror}") from None
        exported = load_export(text)
        event = _cli_event("audit.purge", cio, params={"export_file": str(args.export_file)})
        report = await log.purge(before, exported, event)
        if report.purged == 0:
            print(f"nothing to purge before {iso(before)}", file=cio.out)
        else:
            print(
                f"purged {report.purged} rows ({report.first_id}–{report.last_id});"
                f" chain now anchored at {report.anchor_hash}",
                file=cio.out,
            )
        return EXIT_OK

    return await _with_log(settings, cio, body)


def format_record(record: AuditRecord) -> str:
    """One line per row for terminals."""
    target = f"{record.target_type}:{record.target_id}" if record.target_id else "-"
    actor = f"{record.actor_id} ({record.actor_name})" if record.actor_name else record.actor_id
    message = f" — {record.message}" if record.message else ""
    return (
        f"#{record.id} {iso(record.requested_at)} {actor} {record.action}"
        f" {record.provider or '-'} {target} {record.outcome}{message}"
        f" [{record.correlation_id or '-'}]"
    )


def format_summary(summary: AuditSummary) -> str:
    """``N rows; by action: ...; by actor: ...; by outcome: ...``."""
    actions = ", ".join(f"{action} {n}" for action, n in summary.by_action) or "-"
    actors = ", ".join(f"{actor_id} {n}" for actor_id, _name, n in summary.by_actor) or "-"
    outcomes = ", ".join(f"{outcome} {n}" for outcome, n in summary.by_outcome) or "-"
    return f"{summary.total} rows; by action: {actions}; by actor: {actors}; by outcome: {outcomes}"
