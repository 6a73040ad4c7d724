"""Webhook ingest: unique Streampixel deliveries at fixed rates against a running StreamOps.

Each delivery is a distinct build event (its own uploadId and timestamp) shaped
like the Streampixel simulator's envelope, so every one is stored: dedupe insert
plus outbox insert in one transaction before the 2xx. After the runs the stored
rows are counted in the SQLite file, so a fast answer that stored nothing cannot
pass.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.loadgen import LoadResult, Prepared, open_loop
from bot.sandbox.streampixel_models import EVENT_STATUS

PROJECT_ID = "664f1a2b3c4d5e6f7a8b9c0d"  # a demo project of the simulator
EVENT = "build.approved"
TABLES = ("webhook_deliveries", "outbox")


def deliveries(count: int, offset: int = 0) -> list[Prepared]:
    """``count`` unique Streampixel ``build.approved`` envelopes, ready to POST."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for i in range(offset, offset + count):
        stamp = base + timedelta(milliseconds=i)
        body = {
            "event": EVENT,
            "projectId": PROJECT_ID,
            "uploadId": f"bench{i:019d}",
            "fileUrl": f"https://files.example.invalid/bench/{i}.zip",
            "status": EVENT_STATUS[EVENT],
            "objection": None,
            "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        out.append(Prepared(json.dumps(body).encode(), {"Content-Type": "application/json"}))
    return out


@dataclass
class IngestResult:
    """Ingest figures per offered rate and the rows the database ended up with."""

    results: dict[float, LoadResult] = field(default_factory=dict)
    rows: dict[str, int | None] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """Failed deliveries over every rate."""
        return sum(r.errors for r in self.results.values())

    def kept_up(self, r: LoadResult) -> bool:
        """No errors, and answered at ≥ 95% of the offered rate."""
        return r.errors == 0 and r.achieved_rate >= 0.95 * r.rate

    @property
    def sustained_per_s(self) -> float:
        """Answered deliveries/s at the highest offered rate the server kept up with."""
        kept = [r for r in self.results.values() if self.kept_up(r)]
        if not kept:
            return max((r.achieved_rate for r in self.results.values()), default=0.0)
        return max(kept, key=lambda r: r.rate).achieved_rate

    def describe(self) -> str:
        """Per-rate figures and row counts in one block of text."""
        lines = []
        for rate, r in self.results.items():
            lines.append(
                f"offered {rate:>5.0f}/s: answered {r.achieved_rate:>6.0f}/s,"
                f" p50 {r.percentile(50) * 1000:.1f} ms, p99 {r.percentile(99) * 1000:.1f} ms,"
                f" max {r.max * 1000:.1f} ms, errors {r.errors}"
                + ("" if self.kept_up(r) else "  (did not keep up)")
            )
        sent = sum(len(r.latencies) for r in self.results.values())
        rows = ", ".join(f"{t} {n if n is not None else 'missing'}" for t, n in self.rows.items())
        lines.append(f"sustained {self.sustained_per_s:.0f}/s; {sent} answered; rows: {rows}")
        return "\n  ".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return {
            "sustained_per_s": self.sustained_per_s,
            "rows": self.rows,
            "rates": {
                str(rate): {
                    "answered_per_s": r.achieved_rate,
                    "p99_ms": r.percentile(99) * 1000,
                    "errors": r.errors,
                }
                for rate, r in self.results.items()
            },
        }


def count_rows(database_path: Path) -> dict[str, int | None]:
    """Rows in each ingest table (None when the table does not exist)."""
    counts: dict[str, int | None] = {}
    conn = sqlite3.connect(database_path)
    try:
        for table in TABLES:
            try:
                counts[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            except sqlite3.OperationalError:
                counts[table] = None
    finally:
        conn.close()
    return counts


async def route_exists(url: str) -> tuple[bool, str]:
    """POST one delivery; the route exists if it is answered 2xx."""
    probe = deliveries(1, offset=10**9)[0]
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=probe.body, headers=probe.headers) as resp,
    ):
        await resp.read()
        return 200 <= resp.status < 300, f"probe answered {resp.status}"


async def measure(
    base_url: str,
    token: str,
    *,
    rates: list[float],
    duration: float,
    database_path: Path,
) -> tuple[IngestResult | None, str]:
    """Run rising rates with fresh unique deliveries until one is not kept up with.

    Returns:
        (result, note); result is None when the route does not exist.
    """
    url = f"{base_url}/webhooks/streampixel/{token}"
    exists, note = await route_exists(url)
    if not exists:
        return None, f"not measured: /webhooks/streampixel/{{token}} not in this tree ({note})"
    result = IngestResult()
    offset = 0
    for rate in rates:
        count = max(1, round(rate * duration))
        batch = deliveries(count, offset)
        offset += count
        result.results[rate] = await open_loop(url, batch, rate=rate, duration=duration)
        if not result.kept_up(result.results[rate]):
            break  # higher rates would only pile up timeouts
    result.rows = count_rows(database_path)
    return result, ""
