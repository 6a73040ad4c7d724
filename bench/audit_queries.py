"""Benchmark the audit log: filtered query latency and full-chain verification.

Fills ``--rows`` rows (default 1,000,000) with a valid precomputed hash chain,
each row keyed (HMAC-SHA256 with a fresh audit key, as the app writes them;
``--unkeyed`` for rows as written before the key), through bulk
``executemany`` inserts, then measures p50/p99 of

- actor + 30-day time range, LIMIT 50, and
- target + 30-day time range, LIMIT 50,

through the real ``AuditLog.query`` and, on SQLite, the same SQL through the
stdlib ``sqlite3`` module as a baseline, and finally times ``AuditLog.verify``
(every row's hash, link and MAC).

Usage::

    python bench/audit_queries.py [--rows N] [--db URL] [--samples N] [--seed N] [--unkeyed]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bot.audit import ACTIONS, PROVIDERS, AuditEvent, AuditFilters
from storage import migrate
from storage.audit import ENTRIES, AuditLog
from storage.audit_chain import GENESIS, chain_hash, content_json
from storage.audit_keys import AuditKey, KeyRing, generate_key
from storage.db import Database

START = datetime(2025, 1, 1)
SPAN = timedelta(days=365)
ACTORS = 1_000
TARGETS = 20_000
WINDOW = timedelta(days=30)
BATCH = 20_000


def make_rows(n: int, rng: random.Random, key: AuditKey | None = None) -> list[dict[str, Any]]:
    """``n`` rows in chain order with valid hashes and MACs (naive UTC times, as stored)."""
    step = SPAN / n
    rows = []
    prev = GENESIS
    for i in range(n):
        requested = START + step * i
        actor = rng.randrange(ACTORS)
        row: dict[str, Any] = {
            "id": i + 1,
            "requested_at": requested,
            "completed_at": requested + timedelta(milliseconds=rng.randrange(50, 5_000)),
            "actor_id": f"U{actor:08d}",
            "actor_name": f"user{actor}",
            "team_id": "T0001",
            "channel_id": f"C{rng.randrange(50):04d}",
            "source": rng.choice(("slash_command", "button", "modal", "scheduler")),
            "provider": rng.choice(PROVIDERS),
            "action": rng.choice(ACTIONS[:9]),
            "target_type": "project",
            "target_id": f"proj-{rng.randrange(TARGETS):06d}",
            "params": f'{{"uploadId":"up-{i}"}}',
            "outcome": rng.choices(("ok", "denied", "failed"), (90, 5, 5))[0],
            "message": "done",
            "correlation_id": f"corr-{i}",
            "prev_hash": prev,
        }
        row["hash"] = prev = chain_hash(prev, content_json(row))
        if key is not None:
            row["key_id"] = key.key_id
            row["checkpoint_id"] = None
            row["mac"] = key.row_mac(i + 1, None, prev)
        rows.append(row)
    return rows


async def fill(db: Database, rows: list[dict[str, Any]]) -> None:
    """Bulk-insert ``rows`` in batches, one transaction each."""
    for start in range(0, len(rows), BATCH):
        async with db.engine.begin() as conn:
            await conn.execute(insert(ENTRIES), rows[start : start + BATCH])


async def time_appends(url: str, n: int, keys: KeyRing) -> list[float]:
    """Latency of ``n`` sequential AuditLog.append calls on a fresh, migrated database."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        log = AuditLog(db, keys=keys)
        rng = random.Random(1)
        out = []
        for i in range(n):
            event = AuditEvent(
                action=rng.choice(ACTIONS[:9]),
                outcome="denied",
                actor_id=f"U{rng.randrange(ACTORS):08d}",
                source="button",
                provider="streampixel",
                target_type="project",
                target_id=f"proj-{i}",
                params={"uploadId": f"up-{i}"},
                requested_at=datetime.now(UTC),
            )
            t0 = time.perf_counter()
            await log.append(event)
            out.append(time.perf_counter() - t0)
        return out
    finally:
        await db.dispose()


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def time_repo(log: AuditLog, filters: list[AuditFilters]) -> list[float]:
    """Latency of AuditLog.query for each filter."""
    out = []
    for f in filters:
        t0 = time.perf_counter()
        page = await log.query(f, limit=50)
        out.append(time.perf_counter() - t0)
        assert len(page.records) <= 50
    return out


def time_raw(path: str, column: str, filters: list[AuditFilters]) -> list[float]:
    """Latency of the same query through stdlib sqlite3."""
    conn = sqlite3.connect(path)
    sql = (
        f"SELECT * FROM audit_entries WHERE {column} = ? AND requested_at >= ?"  # noqa: S608
        " AND requested_at < ? ORDER BY requested_at DESC, id DESC LIMIT 51"
    )
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    out = []
    for f in filters:
        key = f.actor_id if column == "actor_id" else f.target
        assert f.since and f.until
        params = (key, f.since.strftime(fmt), f.until.strftime(fmt))
        t0 = time.perf_counter()
        conn.execute(sql, params).fetchall()
        out.append(time.perf_counter() - t0)
    conn.close()
    return out


def random_filters(rng: random.Random, kind: str, n: int) -> list[AuditFilters]:
    """``n`` actor or target filters over random 30-day windows."""
    result = []
    for _ in range(n):
        since = (START + (SPAN - WINDOW) * rng.random()).replace(tzinfo=UTC)
        until = since + WINDOW
        if kind == "actor":
            result.append(
                AuditFilters(actor_id=f"U{rng.randrange(ACTORS):08d}", since=since, until=until)
            )
        else:
            result.append(
                AuditFilters(target=f"proj-{rng.randrange(TARGETS):06d}", since=since, until=until)
            )
    return result


async def main(argv: list[str] | None = None) -> None:
    """Fill, measure and print the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--unkeyed", action="store_true", help="rows as before the audit key")
    parser.add_argument(
        "--appends",
        type=int,
        default=2_000,
        help="time this many appends, keyed and unkeyed, alternating (SQLite; 0: skip)",
    )
    args = parser.parse_args(argv)
    keys = KeyRing() if args.unkeyed else KeyRing.from_texts(generate_key())
    rng = random.Random(args.seed)

    tmp = tempfile.TemporaryDirectory(prefix="audit-bench-")
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    db = Database(url)
    try:
        await migrate.upgrade(db)
        t0 = time.perf_counter()
        rows = make_rows(args.rows, rng, keys.current)
        t_hash = time.perf_counter() - t0
        t0 = time.perf_counter()
        await fill(db, rows)
        t_fill = time.perf_counter() - t0
        del rows
        if db.dialect == "sqlite":
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
        log = AuditLog(db, keys=keys)
        kind = "unkeyed" if args.unkeyed else "keyed (HMAC-SHA256)"
        print(f"backend {db.dialect}, rows {args.rows:,} {kind}, samples {args.samples} per query")
        print(
            f"chain precompute {t_hash:.1f} s, bulk insert {t_fill:.1f} s"
            f" ({args.rows / t_fill:,.0f} rows/s)"
        )
        print(f"{'query':<30}{'p50 ms':>9}{'p99 ms':>9}{'raw p50':>9}{'raw p99':>9}{'p99 x':>7}")
        for kind, column in (("actor", "actor_id"), ("target", "target_id")):
            filters = random_filters(rng, kind, args.samples)
            await time_repo(log, filters[:50])  # warm the pool and page cache
            p50, p99 = percentiles(await time_repo(log, filters))
            raw = ""
            if db.dialect == "sqlite":
                path = url.split(":///", 1)[1]
                r50, r99 = percentiles(time_raw(path, column, filters))
                raw = f"{r50:>9.3f}{r99:>9.3f}{p99 / r99:>7.1f}"
            print(f"{kind + ' + 30d range, LIMIT 50':<30}{p50:>9.3f}{p99:>9.3f}{raw}")
        t0 = time.perf_counter()
        report = await log.verify()
        t_verify = time.perf_counter() - t0
        assert report.ok, report.describe()
        print(
            f"verify: {report.describe()[:60]}... in {t_verify:.1f} s"
            f" ({report.rows_checked / t_verify:,.0f} rows/s)"
        )
        if args.appends:
            await report_appends(Path(tmp.name), args.appends)
    finally:
        await db.dispose()
        tmp.cleanup()


async def report_appends(workdir: Path, n: int) -> None:
    """Per-append latency with and without the audit key, alternating rounds in one run."""
    samples: dict[str, list[float]] = {"unkeyed": [], "keyed": []}
    rings = {"unkeyed": KeyRing(), "keyed": KeyRing.from_texts(generate_key())}
    for round_no in range(2):
        for kind, ring in rings.items():
            url = f"sqlite+aiosqlite:///{workdir / f'appends-{kind}-{round_no}.db'}"
            samples[kind] += await time_appends(url, n // 2, ring)
    (u50, u99), (k50, k99) = percentiles(samples["unkeyed"]), percentiles(samples["keyed"])
    print(f"append (SQLite, one at a time, {n} each): unkeyed p50 {u50:.3f} ms p99 {u99:.3f} ms;")
    print(f"  keyed p50 {k50:.3f} ms p99 {k99:.3f} ms; keyed ÷ unkeyed p50 {k50 / u50:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
