"""Benchmark: notification delay, webhook 2xx → the message visible in (fake) Slack.

``python bench/notify_delay.py [--rate 1] [--duration 30] [--postgres URL]``

One process runs the real app (``bot.app.create_app``, migrations applied, its
delivery worker in the lifespan) on loopback HTTP, the fake Slack Web API and
the provider simulators. Unique Streampixel ``build.approved`` webhooks arrive
at ``--rate`` per second to one channel (the default channel); the delay of
each is from its 2xx answer to the ``chat.postMessage`` that carries its upload
id reaching the fake Slack. Two configurations in the same run, on each
database:

- ``poll``: ``STREAMOPS_OUTBOX_WAKEUP=false``, the worker's 0.5 s poll only
  (the baseline: how it was);
- ``wake``: the worker is woken when the outbox row commits
  (``storage.outbox_wakeup``; on PostgreSQL through ``LISTEN/NOTIFY``).

Prints p50/p99/max and the ratio wake ÷ poll. PostgreSQL runs in a private
database that is dropped afterwards. The machine's load counts against both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.webhooks import deliveries

TOKEN = "bench-webhook-token-0123456789abcdef"  # noqa: S105  # a loopback bench value
CHANNEL = "C0BENCH001"


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


@asynccontextmanager
async def database_url(kind: str, postgres: str | None, tmp: Path) -> AsyncIterator[str]:
    """A fresh database of ``kind``: a SQLite file, or a private PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / f'notify-{uuid.uuid4().hex[:6]}.db'}"
        return
    from storage.db import Database

    assert postgres
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(postgres)
    async with admin.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.dispose()


async def one_run(
    kind: str, wake: bool, args: argparse.Namespace, tmp: Path
) -> tuple[list[float], int]:
    """Delays (s) of every webhook of one configuration, and how many never arrived."""
    from bot.app import create_app
    from bot.sandbox.runner import run_sandbox
    from bot.sandbox.slack import FakeSlack, SlackCall
    from bot.sandbox.slack import create_app as create_fake_slack
    from bot.serving import serve_in_background
    from bot.settings import Settings
    from storage.migrate import upgrade

    slack = FakeSlack()
    seen: dict[str, float] = {}

    def on_call(call: SlackCall) -> None:
        if call.method != "chat.postMessage":
            return
        text = json.dumps(call.payload)
        for upload in pending:
            if upload in text and upload not in seen:
                seen[upload] = time.perf_counter()

    slack.listeners.append(on_call)
    pending: list[str] = []
    async with (
        database_url(kind, args.postgres, tmp) as url,
        serve_in_background(create_fake_slack(slack)) as slack_server,
        run_sandbox(webhook_token=TOKEN) as sandbox,
    ):
        settings = Settings(
            _env_file=None,
            **{
                **sandbox.settings,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench-signing-secret-0123456789abcdef",
                "SLACK_API_URL": f"{slack_server.url}/api/",
                "DATABASE_URL": url,
                "STREAMOPS_WEBHOOK_TOKEN": TOKEN,
                "STREAMOPS_DEFAULT_CHANNEL": CHANNEL,
                "STREAMOPS_LOG_LEVEL": "WARNING",
                "STREAMOPS_OUTBOX_WAKEUP": "true" if wake else "false",
                "STREAMOPS_STREAMAPI_POLL_SECONDS": "0",
                "STREAMOPS_RECONCILE_MINUTES": "0",  # no start-up notices in the channel
            },
        )
        app = create_app(settings)
        await upgrade(app.state.container.db)
        count = int(args.rate * args.duration)
        bodies = deliveries(count, offset=int(time.time() * 1000) % 10**9)
        answered: dict[str, float] = {}
        async with serve_in_background(app) as server, httpx.AsyncClient(timeout=30) as client:
            hook = f"{server.url}/webhooks/streampixel/{TOKEN}"

            async def send(i: int) -> None:
                body = bodies[i]
                upload = json.loads(body.body)["uploadId"]
                pending.append(upload)
                answer = await client.post(hook, content=body.body, headers=body.headers)
                if answer.status_code < 300:
                    answered[upload] = time.perf_counter()

            start = time.perf_counter()
            tasks = []
            for i in range(count):
                await asyncio.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
                tasks.append(asyncio.create_task(send(i)))
            await asyncio.gather(*tasks)
            deadline = time.perf_counter() + 30
            while len(seen) < len(answered) and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # (the fake Slack's listener is synchronous)
    delays = [max(0.0, seen[u] - t) for u, t in answered.items() if u in seen]
    return delays, len(answered) - len(delays)


async def main_async(args: argparse.Namespace) -> None:
    """Both configurations on SQLite, and on PostgreSQL when a URL is given."""
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    print(
        f"notification delay: {args.rate:g} webhook/s for {args.duration:g} s to one channel,"
        " webhook 2xx → chat.postMessage at the fake Slack"
    )
    with tempfile.TemporaryDirectory(prefix="streamops-notify-") as tmp:
        for kind in kinds:
            figures: dict[str, list[float]] = {}
            for mode, wake in (("poll", False), ("wake", True)):
                delays, missing = await one_run(kind, wake, args, Path(tmp))
                figures[mode] = delays
                print(
                    f"  {kind:<10} {mode:<5} n={len(delays):<4} p50 {pct(delays, 50):7.1f} ms"
                    f"  p99 {pct(delays, 99):7.1f} ms  max {pct(delays, 100):7.1f} ms"
                    f"  never arrived {missing}",
                    flush=True,
                )
            ratio = pct(figures["wake"], 99) / pct(figures["poll"], 99)
            print(f"  {kind:<10} wake ÷ poll at p99: {ratio:.2f}×", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1.0, help="webhooks per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    import uvloop

    uvloop.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
