"""CPU per request of two StreamOps trees, measured in alternating blocks of one run.

``python bench/ab_cpu.py --b /path/to/other/tree [--a TREE] [--kind command|help|click]
[--rate 100] [--block 5] [--rounds 6]``

This VM's speed drifts by ±20 % over minutes (BENCHMARKS.md §7), more than most
changes worth measuring, so two separate ``bench/run.py`` runs cannot compare two
versions. Here both trees' servers (``TREE/bench/targets.py streamops``, each on its
own SQLite file, both pinned to CPU 1) run side by side against one sandbox; the
load generator (CPU 0) sends ``--rate`` requests/s to A for ``--block`` seconds, then
to B, and so on for ``--rounds`` rounds. Each block's CPU per request is the
server's CPU time over the block (and the post-ack work that follows it, until
every follow-up has landed) divided by the requests it answered. It prints each
round's pair and B ÷ A per round, with the median and spread of those ratios, and
each side's ack latency (p50 and p99, median of its blocks).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bench.loadgen import open_loop
from bench.notify_delay import machine_line
from bench.run import (
    FALLBACK_COMMAND,
    PRIMARY_COMMAND,
    REPO,
    WEBHOOK_TOKEN,
    child,
    click_bodies,
    cpu_seconds,
    free_port,
    sandbox_stats,
    sign,
    slash_bodies,
    streamops_config,
    wait_followups,
    wait_for_port,
)

SERVER_CPU = 1


@dataclass
class Side:
    """One tree's server and what its blocks measured."""

    label: str
    tree: Path
    url: str = ""
    pid: int = 0
    cpu_ms: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


async def block(
    side: Side, bodies: list[bytes], rate: float, seconds: float, slack_url: str
) -> float:
    """One block against ``side``: its CPU-ms per answered request (its ack p50/p99 kept too)."""
    async with aiohttp.ClientSession() as stats:
        before = await sandbox_stats(stats, slack_url)
        cpu_before = cpu_seconds(side.pid)
        result = await open_loop(side.url, sign(bodies), rate=rate, duration=seconds)
        await wait_followups(stats, slack_url, before, result.followups_due)
        await asyncio.sleep(0.3)  # post-ack work without a follow-up (audit rows)
        if result.errors:
            raise RuntimeError(f"{side.label}: {result.errors} errors {dict(result.error_kinds)}")
        side.p50_ms.append(result.percentile(50) * 1000)
        side.p99_ms.append(result.percentile(99) * 1000)
        return (cpu_seconds(side.pid) - cpu_before) * 1000 / max(len(result.latencies), 1)


async def bench(args: argparse.Namespace) -> int:
    """Start the sandbox and both servers, run the blocks, print the comparison."""
    os.sched_setaffinity(0, {0})
    print(machine_line("start"), flush=True)
    sides = [Side("A", args.a.resolve()), Side("B", args.b.resolve())]
    with tempfile.TemporaryDirectory(prefix="streamops-ab-") as tmp:
        workdir = Path(tmp)
        async with contextlib.AsyncExitStack() as stack:
            sandbox_proc = await stack.enter_async_context(
                child(
                    "sandbox",
                    cpu=0,
                    config={"webhook_token": WEBHOOK_TOKEN},
                    log_path=workdir / "sandbox.log",
                )
            )
            assert sandbox_proc.stdout is not None
            sandbox = json.loads(await asyncio.wait_for(sandbox_proc.stdout.readline(), 60))
            slack_url: str = sandbox["slack_url"]
            if args.kind == "click":
                bodies = click_bodies(slack_url)
            else:
                command = PRIMARY_COMMAND if args.kind == "command" else FALLBACK_COMMAND
                bodies = slash_bodies(*command, slack_url)
            for side in sides:
                port = free_port()
                database_url = f"sqlite+aiosqlite:///{workdir / f'{side.label}.db'}"
                proc = await stack.enter_async_context(
                    child(
                        "streamops",
                        port=port,
                        cpu=SERVER_CPU,
                        config=streamops_config(sandbox["settings"], slack_url, database_url),
                        log_path=workdir / f"{side.label}.log",
                        tree=side.tree,
                    )
                )
                await wait_for_port(port, proc)
                side.url, side.pid = f"http://127.0.0.1:{port}/slack/events", proc.pid
            for side in sides:  # warm-up, not counted
                await block(side, bodies, args.rate / 2, 3, slack_url)
                side.p50_ms.clear()
                side.p99_ms.clear()
            for _ in range(args.rounds):
                for side in sides:
                    side.cpu_ms.append(await block(side, bodies, args.rate, args.block, slack_url))
    a, b = sides
    print(f"{args.kind} at {args.rate:.0f} req/s, {args.rounds} rounds of {args.block:.0f} s each")
    print(f"  A {a.tree}\n  B {b.tree}")
    print("  round   A CPU ms/req   B CPU ms/req   B ÷ A")
    ratios = [y / x for x, y in zip(a.cpu_ms, b.cpu_ms, strict=True)]
    for i, (x, y, r) in enumerate(zip(a.cpu_ms, b.cpu_ms, ratios, strict=True), 1):
        print(f"  {i:>5}   {x:>12.3f}   {y:>12.3f}   {r:5.2f}")
    print(
        f"  median A {statistics.median(a.cpu_ms):.3f}, B {statistics.median(b.cpu_ms):.3f};"
        f" B ÷ A median {statistics.median(ratios):.2f} (range {min(ratios):.2f}–{max(ratios):.2f})"
    )
    for side in sides:
        print(
            f"  {side.label} ack latency, median of the blocks: p50"
            f" {statistics.median(side.p50_ms):.2f} ms, p99 {statistics.median(side.p99_ms):.2f} ms"
            f" (blocks' p99 {min(side.p99_ms):.2f}–{max(side.p99_ms):.2f})"
        )
    print(machine_line("end"), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--a", type=Path, default=REPO, help="tree A (default: this one)")
    parser.add_argument("--b", type=Path, required=True, help="tree B")
    parser.add_argument("--kind", choices=["command", "help", "click"], default="command")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--block", type=float, default=5.0, help="seconds per block")
    parser.add_argument("--rounds", type=int, default=6)
    return asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
