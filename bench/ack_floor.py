"""Benchmark: the ack floor, Bolt's polling runner against ``bot.ack_runner``, in one process.

``python bench/ack_floor.py [--requests 300] [--rounds 3]``

One request in flight at a time, ``--gap`` seconds apart (the post-ack work of
one request, which runs in this process with the simulators and the fake Slack,
is done before the next is timed), so the figure is the time one ack takes, not
queueing: on a machine shared with other work this is the
comparison that stays readable. In one process, on loopback HTTP (uvicorn,
uvloop, httptools), with the same signed requests:

- ``bare Bolt``: ``AsyncApp`` whose listeners only ``ack()`` (``bench/targets.py``'s
  baseline), Bolt's own runner (it polls for the ack every 10 ms);
- ``StreamOps, Bolt's runner``: the real app (``bot.app.create_app``, migrations
  applied, the simulators and the fake Slack behind it) with Bolt's runner put back;
- ``StreamOps``: the same app with its ``PostAckRunner``.

Slash command ``/build projects`` and a viewer's Distribute click (refused and
audited after the ack), rounds interleaved so drifting load hits every
configuration alike. Prints p50/p99 per configuration and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner

from bench.run import (
    BENCH_USER,
    BOT_TOKEN,
    SIGNING_SECRET,
    WEBHOOK_TOKEN,
    click_bodies,
    sign,
    slash_bodies,
)
from bench.targets import bare_bolt_app


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile in ms."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


async def timed(
    client: httpx.AsyncClient, url: str, bodies: list[bytes], n: int, gap: float = 0.0
) -> list[float]:
    """Seconds per request, ``n`` sequential signed requests (bodies round-robin).

    ``gap`` seconds pass between requests, so the previous request's post-ack work
    (which runs in this same process) is done before the next one is timed.
    """
    prepared = sign(bodies)
    out = []
    for i in range(n):
        p = prepared[i % len(prepared)]
        t0 = time.perf_counter()
        answer = await client.post(url, content=p.body, headers=p.headers)
        out.append(time.perf_counter() - t0)
        assert answer.status_code == 200, answer.text
        if gap:
            await asyncio.sleep(gap)
    return out


async def main_async(args: argparse.Namespace) -> None:
    """Every configuration, interleaved for ``--rounds`` rounds."""
    from bot.app import create_app
    from bot.sandbox.runner import run_sandbox
    from bot.sandbox.slack import FakeSlack
    from bot.sandbox.slack import create_app as create_fake_slack
    from bot.serving import serve_in_background
    from bot.settings import Settings
    from storage.migrate import upgrade

    slack = FakeSlack()
    with tempfile.TemporaryDirectory(prefix="streamops-ackfloor-") as tmp:
        async with (
            serve_in_background(create_fake_slack(slack)) as slack_server,
            run_sandbox(webhook_token=WEBHOOK_TOKEN) as sandbox,
        ):
            config: dict[str, Any] = {
                **sandbox.settings,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"{slack_server.url}/api/",
                "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'ack.db'}",
                "STREAMOPS_ADMINS": BENCH_USER,
                "STREAMOPS_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
                "STREAMOPS_DEFAULT_CHANNEL": "C0BENCH001",
                "STREAMOPS_LOG_LEVEL": "WARNING",
                "STREAMOPS_STREAMAPI_POLL_SECONDS": "0",
                "STREAMOPS_RECONCILE_MINUTES": "0",
            }
            app = create_app(Settings(_env_file=None, **config))
            await upgrade(app.state.container.db)
            bolt = app.state.bolt
            ours = bolt._async_listener_runner
            theirs = AsyncioListenerRunner(
                logger=ours.logger,
                process_before_response=ours.process_before_response,
                listener_error_handler=ours.listener_error_handler,
                listener_start_handler=ours.listener_start_handler,
                listener_completion_handler=ours.listener_completion_handler,
                lazy_listener_runner=ours.lazy_listener_runner,
            )
            bare = bare_bolt_app(config)
            kinds = {
                "slash": slash_bodies(*args.command.split(" ", 1), slack_server.url),
                "click": click_bodies(slack_server.url),
            }
            samples: dict[tuple[str, str], list[float]] = {}
            async with (
                serve_in_background(app) as streamops,
                serve_in_background(bare) as bare_server,
                httpx.AsyncClient(timeout=30) as client,
            ):
                for bodies in kinds.values():  # warm-up
                    await timed(client, f"{streamops.url}/slack/events", bodies, 20)
                    await timed(client, f"{bare_server.url}/slack/events", bodies, 20)
                for _ in range(args.rounds):
                    for kind, bodies in kinds.items():
                        n = args.requests // args.rounds
                        bolt._async_listener_runner = theirs
                        samples.setdefault((kind, "StreamOps, Bolt's runner"), []).extend(
                            await timed(
                                client, f"{streamops.url}/slack/events", bodies, n, args.gap
                            )
                        )
                        bolt._async_listener_runner = ours
                        samples.setdefault((kind, "StreamOps"), []).extend(
                            await timed(
                                client, f"{streamops.url}/slack/events", bodies, n, args.gap
                            )
                        )
                        samples.setdefault((kind, "bare Bolt (ack only)"), []).extend(
                            await timed(
                                client, f"{bare_server.url}/slack/events", bodies, n, args.gap
                            )
                        )
                        await asyncio.sleep(0.5)  # let post-ack work settle between runs
    print(
        f"ack floor: one request in flight, {args.requests} requests per configuration,"
        f" {args.rounds} interleaved rounds"
    )
    for kind in kinds:
        base = samples[(kind, "bare Bolt (ack only)")]
        for name in ("bare Bolt (ack only)", "StreamOps, Bolt's runner", "StreamOps"):
            s = samples[(kind, name)]
            print(
                f"  {kind:<6} {name:<26} p50 {pct(s, 50):6.2f} ms  p99 {pct(s, 99):7.2f} ms"
                f"  p50 ÷ bare Bolt {pct(s, 50) / pct(base, 50):5.2f}×"
                f"  p99 ÷ bare Bolt {pct(s, 99) / pct(base, 99):5.2f}×"
            )
    print(json.dumps({f"{k}/{n}": round(pct(s, 50), 3) for (k, n), s in samples.items()}))


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--command", default="/build projects", help="the slash command timed")
    parser.add_argument(
        "--gap", type=float, default=0.05, help="seconds between requests (post-ack work settles)"
    )
    import uvloop

    uvloop.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
