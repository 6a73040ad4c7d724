"""Benchmark: throughput of 1 vs 3 ``streamops serve`` replicas on one PostgreSQL.

For each workload and replica count, a throwaway database is created and
migrated once (``streamops db upgrade``), the replicas are started as real
``python -m bot serve --no-migrate`` processes, and a closed-loop load generator
(``--concurrency`` requests in flight) spreads requests round-robin over them
for ``--duration`` seconds (after a short warm-up). Workloads:

- ``help``: a signed ``/streamops help`` slash command (signature check, ack,
  then the reply posted to a ``response_url`` served by this process);
- ``webhook``: a Streampixel ``build.uploaded`` webhook with a fresh uploadId
  (dedupe insert + outbox row in one transaction; the delivery worker is off
  unless ``--workers``, which lets every replica deliver to the fake Slack too).

Reports req/s, p50/p99 latency, errors, and the 3-vs-1 ratio. The load
generator, the replicas and PostgreSQL share the machine: on a small machine
the ratio measures contention more than scaling.

Usage::

    python bench/replicas.py [--db postgresql+asyncpg://postgres@127.0.0.1:5432/test]
        [--duration 10] [--warmup 2] [--concurrency 16] [--workloads help,webhook]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack import FakeSlack
from bot.sandbox.slack import create_app as create_fake_slack
from bot.serving import serve_in_background
from storage.audit_keys import generate_key

ROOT = Path(__file__).resolve().parents[1]
# Made-up values for the throwaway replicas (nothing real is signed or called).
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"  # noqa: S105
WEBHOOK_TOKEN = "bench-webhook-token-0123456789"  # noqa: S105
DEFAULT_DB = os.environ.get(
    "STREAMOPS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

Request = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Result:
    """One measured run."""

    workload: str
    replicas: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds


# -- database and processes ------------------------------------------------------------


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.asynccontextmanager
async def throwaway_database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of ``server_url``; dropped afterwards."""
    name = f"streamops_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        conn = await asyncpg.connect(_dsn(server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


#: One audit key for every replica of a run (they write to the same chain).
BENCH_AUDIT_KEY = generate_key()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str, slack_url: str, workers: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STREAM"))}
    env.update(
        SLACK_BOT_TOKEN="bench-bot-token-not-real",  # noqa: S106
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=f"{slack_url}/api/",
        DATABASE_URL=database_url,
        STREAMOPS_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        STREAMOPS_DEFAULT_CHANNEL="C0BENCH",
        STREAMOPS_DELIVERY_WORKER="true" if workers else "false",
        STREAMOPS_STREAMAPI_POLL_SECONDS="0",
        STREAMOPS_LOG_LEVEL="WARNING",
        STREAMOPS_AUDIT_KEY=BENCH_AUDIT_KEY,
    )
    return env


@contextlib.asynccontextmanager
async def running_replicas(
    count: int, env: dict[str, str], logs: Path, http: httpx.AsyncClient
) -> AsyncIterator[list[str]]:
    """Migrate once, start ``count`` serve processes, wait for /readyz; stop them afterwards."""
    with (logs / "upgrade.log").open("wb") as out:
        upgrade = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "db", "upgrade", cwd=ROOT, env=env, stdout=out, stderr=out
        )
        if await upgrade.wait() != 0:
            raise SystemExit((logs / "upgrade.log").read_text())
    procs: list[asyncio.subprocess.Process] = []
    urls: list[str] = []
    try:
        for n in range(count):
            port = _free_port()
            with (logs / f"replica{n}.log").open("wb") as out:
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-migrate",
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=out,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        async with asyncio.timeout(60):
            for proc, url in zip(procs, urls, strict=True):
                while True:
                    if proc.returncode is not None:
                        raise SystemExit(f"a replica exited; see {logs}")
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get(f"{url}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
        yield urls
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


# -- workloads -----------------------------------------------------------------------------


def help_request(response_url: str) -> Request:
    """A signed ``/streamops help`` (signed afresh per request, as Slack does)."""
    verifier = SignatureVerifier(SIGNING_SECRET)

    async def send(http: httpx.AsyncClient, url: str) -> httpx.Response:
        body = urlencode(
            {
                "token": "bench",
                "team_id": "T0BENCH",
                "channel_id": "C0BENCH",
                "user_id": "U0BENCH",
                "user_name": "bench",
                "command": "/streamops",
                "text": "help",
                "response_url": response_url,
                "trigger_id": "1.2.3",
            }
        ).encode()
        ts = str(int(time.time()))
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return await http.post(f"{url}/slack/events", content=body, headers=headers)

    return send


def webhook_request() -> Request:
    """A Streampixel ``build.uploaded`` webhook about a new build each time."""
    counter = itertools.count()

    async def send(http: httpx.AsyncClient, url: str) -> httpx.Response:
        n = next(counter)
        body = {
            "event": "build.uploaded",
            "projectId": "664f1a2b3c4d5e6f7a8b9c0d",
            "uploadId": f"bench{uuid.uuid4().hex[:19]}",
            "fileUrl": f"https://builds.example.com/bench/{n}.zip",
            "status": "pending",
            "objection": None,
            "timestamp": "2026-05-01T12:00:00.000Z",
        }
        return await http.post(
            f"{url}/webhooks/streampixel/{WEBHOOK_TOKEN}",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )

    return send


async def drive(
    http: httpx.AsyncClient,
    urls: list[str],
    request: Request,
    *,
    seconds: float,
    concurrency: int,
) -> tuple[list[float], int]:
    """Closed loop: ``concurrency`` workers, round-robin over ``urls``, for ``seconds``."""
    targets = itertools.cycle(urls)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                response = await request(http, next(targets))
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(
    server_url: str, workload: str, replicas: int, args: argparse.Namespace
) -> Result:
    """Start ``replicas`` on a fresh database and measure ``workload`` on them."""
    slack = FakeSlack()
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=64)
    with tempfile.TemporaryDirectory() as logs:
        async with (
            throwaway_database(server_url) as database_url,
            serve_in_background(create_fake_slack(slack)) as slack_server,
            httpx.AsyncClient(timeout=30, limits=limits) as http,
        ):
            env = _env(database_url, slack_server.url, workers=args.workers)
            async with running_replicas(replicas, env, Path(logs), http) as urls:
                request = (
                    help_request(f"{slack_server.url}/response/bench")
                    if workload == "help"
                    else webhook_request()
                )
                await drive(http, urls, request, seconds=args.warmup, concurrency=args.concurrency)
                slack.calls.clear()
                started = time.perf_counter()
                latencies, errors = await drive(
                    http, urls, request, seconds=args.duration, concurrency=args.concurrency
                )
                elapsed = time.perf_counter() - started
    return Result(
        workload,
        replicas,
        len(latencies),
        errors,
        elapsed,
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
    )


def report(results: list[Result], args: argparse.Namespace) -> None:
    """Print one line per run and the 3-vs-1 ratio per workload."""
    print(
        f"streamops serve replicas on PostgreSQL: {args.duration:g} s per run, "
        f"{args.concurrency} requests in flight, round-robin; {os.cpu_count()} CPU cores shared "
        "by the load generator, the replicas and PostgreSQL"
    )
    print(
        f"{'workload':<9}{'replicas':>9}{'requests':>10}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}"
    )
    for r in results:
        print(
            f"{r.workload:<9}{r.replicas:>9}{r.requests:>10}{r.errors:>8}{r.rps:>9.1f}"
            f"{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}"
        )
    for workload in dict.fromkeys(r.workload for r in results):
        by_count = {r.replicas: r for r in results if r.workload == workload}
        if 1 in by_count and args.replicas in by_count:
            ratio = by_count[args.replicas].rps / by_count[1].rps
            print(f"{workload}: {args.replicas} replicas / 1 replica = {ratio:.2f}x req/s")


async def main_async(args: argparse.Namespace) -> None:
    """Run every workload on 1 and on ``--replicas`` replicas."""
    results = []
    for workload in args.workloads.split(","):
        for count in (1, args.replicas):
            result = await measure(args.db, workload, count, args)
            print(
                f"  {workload} x{count}: {result.rps:.1f} req/s "
                f"(p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms)",
                file=sys.stderr,
            )
            results.append(result)
    report(results, args)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help="a PostgreSQL URL (its server is used)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--replicas", type=int, default=3, help="the many-replica count")
    parser.add_argument("--workloads", default="help,webhook", help="help and/or webhook")
    parser.add_argument(
        "--workers",
        action="store_true",
        help="run each replica's delivery worker too (webhooks are then also posted to Slack)",
    )
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql"):
        parser.error("--db must be a postgresql+asyncpg:// URL")
    unknown = set(args.workloads.split(",")) - {"help", "webhook"}
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    asyncio.run(main_async(parse_args()))
