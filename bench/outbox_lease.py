"""Benchmark: the outbox lease from 100 to 100,000 pending rows, on SQLite and PostgreSQL.

``python bench/outbox_lease.py [--sizes 100 1000 10000 100000] [--channels 20]
[--calls 200] [--postgres URL]``

A fresh, migrated database gets a growing backlog of pending rows spread over
``--channels`` channels (no ``ANALYZE`` is ever run). At each size it times, per
call, on the same data in the same run:

- ``lease``: ``OutboxStore.lease`` (storage/outbox_lease.py) when heads are free;
  each leased row is given back at once (``retry_later`` to now) so the next call
  finds the same backlog;
- ``idle poll``: the same lease when every channel's head is already leased,
  so nothing is deliverable: what a worker's poll costs while channels are paced;
- the same two with the **previous** lease query (a tenth as many calls; skipped at
  larger sizes once it takes over 100 ms per call) (pending rows in id order, each
  tested for "no older pending row in its channel"), on its own index
  (``ix_outbox_status_channel``, which migration 0010 replaced; created here for
  the comparison), as the baseline.

Prints p50/p99 per size and the ratio of the 100,000-row p50 to the 100-row p50
(flat = a ratio of about 1). PostgreSQL runs in a private schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from storage import migrate
from storage.db import Database
from storage.outbox import PENDING, Lease, OutboxRow, OutboxStore

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def legacy_query(now: datetime, postgres: bool):  # type: ignore[no-untyped-def]
    """The lease query before migration 0010 (the baseline)."""
    earlier = aliased(OutboxRow)
    older_pending = (
        select(earlier.id)
        .where(
            earlier.channel == OutboxRow.channel,
            earlier.status == PENDING,
            col(earlier.id) < col(OutboxRow.id),
        )
        .exists()
    )
    query = (
        select(OutboxRow)
        .where(
            OutboxRow.status == PENDING,
            OutboxRow.next_attempt_at <= now,
            or_(col(OutboxRow.lease_until).is_(None), col(OutboxRow.lease_until) < now),
            ~older_pending,
        )
        .order_by(col(OutboxRow.id))
        .limit(1)
    )
    return query.with_for_update(skip_locked=True) if postgres else query


async def grow(db: Database, start: int, stop: int, channels: int) -> None:
    """Add pending rows ``start``..``stop`` (round-robin over ``channels``)."""
    step = 5000
    for lo in range(start, stop, step):
        values = [
            {
                "channel": f"C{i % channels:05d}",
                "subject_key": f"build:{i}",
                "payload": "{}",
                "status": PENDING,
                "progress": 0,
                "attempts": 0,
                "next_attempt_at": T0,
                "created_at": T0,
            }
            for i in range(lo, min(stop, lo + step))
        ]
        async with db.engine.begin() as conn:
            await conn.execute(insert(OutboxRow), values)


async def timed(calls: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    """Seconds per call, ``calls`` times (after 5 warm-up calls)."""
    for _ in range(5):
        await call()
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t0)
    return out


def p(samples: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in ms."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


async def measure(db: Database, sizes: list[int], channels: int, calls: int) -> list[dict]:  # type: ignore[type-arg]
    """Every figure, one dict per (size, case)."""
    store = OutboxStore(db)
    postgres = db.dialect == "postgresql"
    if postgres:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE outbox SET (autovacuum_enabled = false)")
    async with db.engine.begin() as conn:  # the baseline's own index
        await conn.exec_driver_sql(
            "CREATE INDEX ix_outbox_status_channel ON outbox (status, channel, id)"
        )

    async def lease_and_give_back() -> None:
        lease = await store.lease("bench", T0, LEASE)
        assert lease is not None
        await store.retry_later(lease, T0, "bench")

    async def idle_lease() -> None:
        assert await store.lease("bench", T0, LEASE) is None

    async def legacy() -> None:
        async with db.session() as session:
            (await session.exec(legacy_query(T0, postgres))).first()

    rows: list[dict] = []  # type: ignore[type-arg]
    have = 0
    baseline_calls = max(5, calls // 10)
    baseline_too_slow = False
    for size in sizes:
        await grow(db, have, size, channels)
        have = size
        results = {"lease": await timed(calls, lease_and_give_back)}
        if not baseline_too_slow:
            results["previous query"] = await timed(baseline_calls, legacy)
        held: list[Lease] = []
        while (lease := await store.lease("holder", T0, LEASE)) is not None:
            held.append(lease)
        results["idle poll"] = await timed(calls, idle_lease)
        if not baseline_too_slow:
            results["previous query, idle poll"] = await timed(baseline_calls, legacy)
            # it grows linearly: past 100 ms per call it would take hours at larger sizes
            baseline_too_slow = p(results["previous query, idle poll"], 50) > 100
        for lease in held:
            await store.retry_later(lease, T0, "bench")
        for case, samples in results.items():
            rows.append({"size": size, "case": case, "p50": p(samples, 50), "p99": p(samples, 99)})
            print(
                f"  {db.dialect:<10} {size:>7} rows  {case:<26} p50 {p(samples, 50):8.3f} ms"
                f"  p99 {p(samples, 99):8.3f} ms",
                flush=True,
            )
    return rows


def summary(dialect: str, rows: list[dict], sizes: list[int]) -> None:  # type: ignore[type-arg]
    """p50 at the largest size ÷ p50 at the smallest, per case."""
    print(f"\n  {dialect}: p50 at {sizes[-1]:,} rows ÷ p50 at {sizes[0]:,} rows")
    for case in ("lease", "idle poll", "previous query", "previous query, idle poll"):
        measured = [r for r in rows if r["case"] == case]
        small, big = measured[0], measured[-1]
        print(
            f"    {case:<26} {big['p50'] / small['p50']:8.2f}×  "
            f"({small['p50']:.3f} ms at {small['size']:,} → {big['p50']:.3f} ms at {big['size']:,})"
        )
    old = [r for r in rows if r["case"] == "previous query, idle poll"][-1]
    new = next(r for r in rows if r["case"] == "idle poll" and r["size"] == old["size"])
    print(
        f"    idle poll at {old['size']:,} rows, new ÷ previous: {new['p50'] / old['p50']:.4f}×"
        + ("  (previous query not run past 100 ms per call)" if old["size"] != sizes[-1] else "")
    )


async def run(args: argparse.Namespace) -> None:
    """SQLite always, PostgreSQL when a URL is given."""
    with tempfile.TemporaryDirectory(prefix="streamops-lease-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'lease.db'}")
        try:
            if not args.skip_sqlite:
                await migrate.upgrade(db)
                rows = await measure(db, args.sizes, args.channels, args.calls)
                summary("sqlite", rows, args.sizes)
        finally:
            await db.dispose()
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = Database(args.postgres)
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        db = Database(args.postgres, connect_args={"server_settings": {"search_path": schema}})
        try:
            await migrate.upgrade(db)
            rows = await measure(db, args.sizes, args.channels, args.calls)
            summary("postgresql", rows, args.sizes)
        finally:
            await db.dispose()
            async with admin.engine.begin() as conn:
                await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await admin.dispose()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args(argv)
    args.sizes = sorted(args.sizes)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
