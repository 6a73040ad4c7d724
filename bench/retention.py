"""Benchmark retention: table sizes stay flat under continuous ingest with a short retention.

Simulated time: every simulated minute ``--rate`` webhooks arrive through the real intake
transaction (``WebhookStore.record``: dedupe row + outbox row), the delivery worker's effect is
applied (every pending row marked sent, as ``OutboxStore.complete`` would), and every
``--prune-every`` simulated minutes the real ``RetentionJob`` deletes what is older than
``--retention`` minutes, in batches. The script prints the outbox and delivery row counts over
time; with retention they level off at about ``rate * (retention + prune-every)`` rows, and
without it (the baseline, the same run with pruning off) they grow linearly.

It also times the intake transactions made while a prune runs against those made with no prune
running (p50/p99, wall clock), to show pruning does not block intake.

Usage::

    python bench/retention.py [--db URL] [--minutes N] [--rate N] [--retention N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import update

from bot.jobs.retention import RetentionJob
from storage import migrate
from storage.db import Database
from storage.notifications import Notice
from storage.outbox import PENDING, SENT, OutboxRow
from storage.retention import RetentionStore
from storage.webhooks import POSTED, QUEUED, Intake, WebhookDelivery, WebhookStore

START = datetime(2026, 1, 1, tzinfo=UTC)


def _intake() -> Intake:
    key = uuid.uuid4().hex
    return Intake(
        provider="streampixel",
        event="build.approved",
        subject=key[:12],
        project="p1",
        dedupe_key=key,
        raw_payload='{"bench": true}',
        notification=Notice(provider="streampixel", event="build.approved", subject=key[:12]),
        subject_key=key[:12],
    )


async def _mark_sent(db: Database, at: datetime) -> None:
    """What the delivery worker's ``complete`` does to every row, in one statement."""
    async with db.session() as session:
        await session.exec(
            update(OutboxRow)
            .where(OutboxRow.status == PENDING)  # type: ignore[arg-type]
            .values(status=SENT, finished_at=at, result_ts="1.0")
        )
        await session.exec(
            update(WebhookDelivery)
            .where(WebhookDelivery.outcome == QUEUED)  # type: ignore[arg-type]
            .values(outcome=POSTED)
        )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(
    url: str, *, minutes: int, rate: int, retention: int, prune_every: int, prune: bool
) -> tuple[list[tuple[int, dict[str, int]]], list[float], list[float]]:
    """Ingest for ``minutes`` simulated minutes; sizes over time and intake latencies."""
    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_retention_{uuid.uuid4().hex[:8]}"
        async with Database(url).engine.begin() as conn:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        db = Database(url)
    await migrate.upgrade(db)
    store = WebhookStore(db)
    sizes = RetentionStore(db)
    now = START
    job = RetentionJob(
        db, clock=lambda: now, retention=timedelta(minutes=retention), batch_size=200, pause=0.0
    )
    during: list[float] = []
    quiet: list[float] = []
    series: list[tuple[int, dict[str, int]]] = []

    async def ingest(bucket: list[float]) -> None:
        for _ in range(rate):
            started = time.perf_counter()
            await store.record(_intake(), now, default_channel="C1")
            bucket.append(time.perf_counter() - started)

    try:
        for minute in range(1, minutes + 1):
            now = START + timedelta(minutes=minute)
            if prune and minute % prune_every == 0:
                await asyncio.gather(job.prune(), ingest(during))
            else:
                await ingest(quiet)
            await _mark_sent(db, now)
            if minute % max(1, minutes // 12) == 0:
                series.append((minute, await sizes.row_counts()))
    finally:
        await db.dispose()
        if schema is not None:
            admin = Database(url)
            async with admin.engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await admin.dispose()
    return series, during, quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--minutes", type=int, default=120, help="simulated minutes of ingest")
    parser.add_argument("--rate", type=int, default=100, help="webhooks per simulated minute")
    parser.add_argument("--retention", type=int, default=10, help="retention, simulated minutes")
    parser.add_argument("--prune-every", type=int, default=2, help="simulated minutes")
    args = parser.parse_args()

    results = {}
    for prune in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.db or f"sqlite+aiosqlite:///{tmp}/bench.db"
            results[prune] = asyncio.run(
                run(
                    url,
                    minutes=args.minutes,
                    rate=args.rate,
                    retention=args.retention,
                    prune_every=args.prune_every,
                    prune=prune,
                )
            )
    print(
        f"{args.rate} webhooks/simulated min, retention {args.retention} min, "
        f"prune every {args.prune_every} min, {args.minutes} min; database "
        f"{'SQLite' if not args.db else args.db.split(':')[0]}"
    )
    print(
        f"{'minute':>7} {'outbox (no retention)':>22} {'outbox (retention)':>19} "
        f"{'deliveries (no ret.)':>21} {'deliveries (ret.)':>18}"
    )
    for (minute, base), (_, pruned) in zip(results[False][0], results[True][0], strict=True):
        print(
            f"{minute:>7} {base['outbox']:>22} {pruned['outbox']:>19} "
            f"{base['webhook_deliveries']:>21} {pruned['webhook_deliveries']:>18}"
        )
    _, during, quiet = results[True]
    _, baseline_prune, baseline = results[False]
    baseline = baseline + baseline_prune  # the run with retention off: every intake
    print(_summary("intake while a prune runs", during, baseline))
    print(_summary("intake, no prune running", quiet, baseline))
    print(_summary("intake, retention off (baseline)", baseline, baseline))


def _summary(label: str, values: list[float], baseline: list[float]) -> str:
    """p50/p99/max of ``values`` (ms) and the mean ratio against ``baseline``."""
    if not values:
        return f"{label}: no samples"
    ratio = statistics.mean(values) / statistics.mean(baseline) if baseline else float("nan")
    return (
        f"{label}: n={len(values)} p50={_pct(values, 0.5):.2f} ms "
        f"p99={_pct(values, 0.99):.2f} ms max={max(values) * 1000:.2f} ms "
        f"(mean {ratio:.2f}x the baseline)"
    )


if __name__ == "__main__":
    main()
