"""Benchmark: notification delay, webhook 2xx → the message visible in (fake) Slack.

``python bench/notify_delay.py [--rate 1] [--duration 30] [--postgres URL]``
``python bench/notify_delay.py --burst --rate 50 --duration 10 [--postgres URL]``

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

Prints p50/p99/max and the ratio wake ÷ poll.

With ``--burst`` the same webhooks go out at ``--rate`` (e.g. 50/s for 10 s) and an
event counts as *visible* when any message carrying it reaches the fake Slack: its
own message, an edit of it, or a channel digest. Two configurations, both woken:

- ``off``: ``STREAMOPS_OUTBOX_COLLAPSE=false``, every notification on its own at
  Slack's pace of one message per second per channel (the baseline);
- ``on``: collapsed edits and channel digests (``bot.jobs.outbox_worker``).

It prints how many events were visible when the burst ended (its last 2xx), and
p50/p99 webhook → visible over every event; one not visible ``--drain`` seconds after
the burst counts as later than that (the percentile is then printed as ``>``).

PostgreSQL runs in a private database that is dropped afterwards. The machine's load
counts against both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench.webhooks import deliveries

#: Webhooks in flight at once (the client's connections); the rest wait their turn.
CONNECTIONS = 16
#: A webhook not answered this long after it was due counts as unanswered.
ANSWER_WITHIN = 30.0
TOKEN = "bench-webhook-token-0123456789abcdef"  # noqa: S105  # a loopback bench value
CHANNEL = "C0BENCH001"


#: Upload ids of the bench's webhooks, as they appear in any message.
UPLOAD_ID = re.compile(r"bench\d{19}")


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms (``inf`` when it falls on a never-seen event)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


def shown(value_ms: float, floor_ms: float) -> str:
    """A percentile for printing: ``>floor`` when it is an event never seen."""
    return f">{floor_ms:7.0f}" if math.isinf(value_ms) else f"{value_ms:8.1f}"


@dataclass
class Run:
    """One configuration's figures: delays (s; ``inf`` = never seen) and the burst's end."""

    delays: list[float]
    visible_at_end: int
    window: float
    intake: list[float]  # webhook due → its 2xx (s)
    unanswered: int  # no 2xx within ANSWER_WITHIN of being due


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
    kind: str, wake: bool, args: argparse.Namespace, tmp: Path, *, collapse: bool = True
) -> Run:
    """Delays (s) of every webhook of one configuration (``inf``: never seen)."""
    from bot.app import create_app
    from bot.sandbox.runner import run_sandbox
    from bot.sandbox.slack import FakeSlack, SlackCall
    from bot.sandbox.slack import create_app as create_fake_slack
    from bot.serving import serve_in_background
    from bot.settings import Settings
    from storage.migrate import upgrade

    slack = FakeSlack()
    seen: dict[str, float] = {}

    visible = ("chat.postMessage", "chat.update") if args.burst else ("chat.postMessage",)

    def on_call(call: SlackCall) -> None:
        if call.method not in visible:
            return
        now = time.perf_counter()
        for upload in UPLOAD_ID.findall(json.dumps(call.payload)):
            seen.setdefault(upload, now)

    slack.listeners.append(on_call)
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
                "STREAMOPS_OUTBOX_COLLAPSE": "true" if collapse else "false",
                "STREAMOPS_STREAMAPI_POLL_SECONDS": "0",
                "STREAMOPS_RECONCILE_MINUTES": "0",  # no start-up notices in the channel
            },
        )
        app = create_app(settings)
        await upgrade(app.state.container.db)
        count = int(args.rate * args.duration)
        bodies = deliveries(count, offset=int(time.time() * 1000) % 10**9)
        answered: dict[str, float] = {}
        intake: list[float] = []  # due → 2xx (s), the provider's view of the answer
        refused: list[str] = []
        # The load generator shares this event loop with the app. httpcore's pool rescans
        # every queued request against every connection each time one is assigned
        # (O(queued x connections), encode/httpcore#1035), and counts idle connections
        # once per connection (O(connections^2)): 900 requests queued behind 100
        # connections burned 90 % of the process's CPU under load, and the app starved.
        # A few connections, and requests beyond them wait in a FIFO semaphore; the
        # 30 s limit still counts from when each webhook was due.
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        slots = asyncio.Semaphore(CONNECTIONS)
        async with (
            serve_in_background(app) as server,
            httpx.AsyncClient(timeout=ANSWER_WITHIN, limits=limits) as client,
        ):
            hook = f"{server.url}/webhooks/streampixel/{TOKEN}"

            async def send(i: int, due: float) -> None:
                body = bodies[i]
                upload = json.loads(body.body)["uploadId"]
                try:
                    async with asyncio.timeout(ANSWER_WITHIN), slots:
                        answer = await client.post(hook, content=body.body, headers=body.headers)
                except (httpx.HTTPError, TimeoutError):
                    refused.append(upload)  # (not counted: it never got its 2xx)
                    return
                if answer.status_code < 300:
                    answered[upload] = time.perf_counter()
                    intake.append(answered[upload] - due)

            start = time.perf_counter()
            tasks = []
            for i in range(count):
                due = start + i / args.rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(send(i, due)))
            await asyncio.gather(*tasks)
            ended = time.perf_counter()
            visible_at_end = sum(1 for u in answered if seen.get(u, math.inf) <= ended)
            deadline = ended + args.drain
            while not all(u in seen for u in answered) and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # (the fake Slack's listener is synchronous)
            window = time.perf_counter() - min(answered.values(), default=ended)
    delays = [max(0.0, seen[u] - t) if u in seen else math.inf for u, t in answered.items()]
    if refused:
        print(f"  ({len(refused)} webhooks got no answer within 30 s: left out)", flush=True)
    return Run(delays, visible_at_end, window, intake, len(refused))


async def burst_async(args: argparse.Namespace) -> None:
    """A burst, collapse/digest off (baseline) and on, on SQLite and PostgreSQL."""
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    count = int(args.rate * args.duration)
    print(
        f"notification burst: {args.rate:g} webhook/s for {args.duration:g} s to one channel"
        f" ({count} builds), webhook 2xx → visible at the fake Slack (message, edit or digest)"
    )
    with tempfile.TemporaryDirectory(prefix="streamops-notify-") as tmp:
        for kind in kinds:
            p99: dict[str, float] = {}
            for mode, collapse in (("off", False), ("on", True)):
                run = await one_run(kind, True, args, Path(tmp), collapse=collapse)
                delays = run.delays
                floor = args.drain * 1000
                never = sum(1 for d in delays if math.isinf(d))
                p99[mode] = pct(delays, 99)
                print(
                    f"  {kind:<10} {mode:<4} visible when the burst ended"
                    f" {run.visible_at_end}/{len(delays)}"
                    f"  p50 {shown(pct(delays, 50), floor)} ms  p99 {shown(p99[mode], floor)} ms"
                    f"  max {shown(pct(delays, 100), floor)} ms"
                    f"  not visible {args.drain:g} s after the burst {never}",
                    flush=True,
                )
                print(
                    f"  {kind:<10} {mode:<4} intake (due → 2xx)"
                    f"  p50 {pct(run.intake, 50):7.1f} ms  p99 {pct(run.intake, 99):7.1f} ms"
                    f"  max {pct(run.intake, 100):7.1f} ms"
                    f"  no answer within {ANSWER_WITHIN:g} s {run.unanswered}",
                    flush=True,
                )
            if math.isinf(p99["off"]) and not math.isinf(p99["on"]):
                print(
                    f"  {kind:<10} on ÷ off at p99: < {p99['on'] / (args.drain * 1000):.3f}×"
                    " (off never showed them all)",
                    flush=True,
                )
            elif not math.isinf(p99["on"]):
                print(f"  {kind:<10} on ÷ off at p99: {p99['on'] / p99['off']:.3f}×", flush=True)


def machine_line(label: str) -> str:
    """The commit and the machine's load average (1/5/15 min): the box is shared."""
    from bench.machine import describe

    one, five, fifteen = os.getloadavg()
    commit = describe(Path(__file__).resolve().parents[1])["commit"]
    return f"  [{label}] commit {commit}, load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


async def main_async(args: argparse.Namespace) -> None:
    """Both configurations on SQLite, and on PostgreSQL when a URL is given."""
    print(machine_line("start"), flush=True)
    try:
        await run_async(args)
    finally:
        print(machine_line("end"), flush=True)


async def run_async(args: argparse.Namespace) -> None:
    """The steady or the burst scenario."""
    if args.burst:
        await burst_async(args)
        return
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    print(
        f"notification delay: {args.rate:g} webhook/s for {args.duration:g} s to one channel,"
        " webhook 2xx → chat.postMessage at the fake Slack"
    )
    with tempfile.TemporaryDirectory(prefix="streamops-notify-") as tmp:
        for kind in kinds:
            figures: dict[str, list[float]] = {}
            for mode, wake in (("poll", False), ("wake", True)):
                run = await one_run(kind, wake, args, Path(tmp))
                delays = [d for d in run.delays if not math.isinf(d)]
                missing = len(run.delays) - len(delays)
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rate", type=float, default=1.0, help="webhooks per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL")
    parser.add_argument(
        "--burst", action="store_true", help="a burst: collapse/digest off (baseline) and on"
    )
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds to wait for stragglers after the burst"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    import uvloop

    uvloop.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
