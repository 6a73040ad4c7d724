"""The processes a benchmark run starts, one kind per invocation.

``python bench/targets.py KIND --port N [--cpu C]`` where KIND is

- ``starlette``: a bare Starlette endpoint on ``POST /slack/events`` (reads the body, 200);
- ``bolt``: a bare slack-bolt ``AsyncApp`` behind ``AsyncSlackRequestHandler`` whose
  command listeners only ``ack()``;
- ``bolt-respond``: the same, but each listener also posts one ``respond()`` to the
  ``response_url`` after acking, as StreamOps' ``/streamops help`` does (a diagnostic
  baseline: Bolt's own follow-up cost on the same core);
- ``streamops``: the real app (``bot.server.serve``, i.e. ``streamops serve``) with
  migrations applied at start-up;
- ``sandbox``: the fake Slack Web API and the three provider simulators; prints one
  JSON line with their URLs and settings, then serves until terminated.

Settings come as a JSON object in the ``BENCH_CONFIG`` environment variable (not
argv, so the signing secret never shows in a process listing). The three servers
run under uvicorn with the same configuration (one worker, ``log_level`` warning,
defaults otherwise), so they differ only in the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

LOG_LEVEL = "warning"
COMMANDS = ("/build", "/streamops")


def bare_starlette_app() -> Starlette:
    """Baseline (a): read the request body and answer 200 with an empty body."""

    async def slack_events(request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


def bare_bolt_app(config: dict[str, str], *, respond_after_ack: bool = False) -> Starlette:
    """Baseline (b): Bolt with signature checks, served like StreamOps, listeners only ack.

    Args:
        respond_after_ack: also send one ephemeral ``respond()`` after the ack.
    """
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=config["SLACK_BOT_TOKEN"], base_url=config["SLACK_API_URL"]),
        signing_secret=config["SLACK_SIGNING_SECRET"],
        process_before_response=False,
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def ack_then_respond(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="bench follow-up", response_type="ephemeral")

    for command in COMMANDS:
        bolt.command(command)(ack_then_respond if respond_after_ack else only_ack)
    # Button clicks (block_actions) are acked the same way, for the click table.
    bolt.action(re.compile(".*"))(ack_then_respond if respond_after_ack else only_ack)
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


async def serve_streamops(config: dict[str, str], port: int) -> None:
    """Run StreamOps the way ``streamops serve`` does (migrations, then uvicorn)."""
    from bot.server import serve
    from bot.settings import Settings

    values: dict[str, Any] = dict(config)
    settings = Settings(_env_file=None, **values)
    await serve(settings, host="127.0.0.1", port=port)


async def serve_plain(app: Any, port: int) -> None:
    """Serve a baseline app with the same uvicorn configuration as StreamOps."""
    await uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level=LOG_LEVEL)
    ).serve()


async def serve_sandbox(webhook_base: str | None, webhook_token: str) -> None:
    """Fake Slack plus the provider simulators; print their settings as one JSON line."""
    from bot.sandbox.runner import run_sandbox
    from bot.sandbox.slack import FakeSlack
    from bot.sandbox.slack import create_app as create_fake_slack
    from bot.serving import serve_in_background

    slack = FakeSlack()

    async def stats(_: Request) -> Response:
        counts: dict[str, int] = {}
        for call in slack.calls:
            counts[call.method] = counts.get(call.method, 0) + 1
        return JSONResponse(counts)

    app = Starlette(
        routes=[
            Route("/bench/stats", stats, methods=["GET"]),
            Mount("/", app=create_fake_slack(slack)),
        ]
    )
    async with (
        serve_in_background(app) as slack_server,
        run_sandbox(webhook_base=webhook_base, webhook_token=webhook_token) as sandbox,
    ):
        line = {"slack_url": slack_server.url, "settings": sandbox.settings}
        print(json.dumps(line), flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve the chosen kind until terminated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = ["starlette", "bolt", "bolt-respond", "streamops", "sandbox"]
    parser.add_argument("kind", choices=kinds)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    config: dict[str, str] = json.loads(os.environ.get("BENCH_CONFIG", "{}"))
    if args.kind == "starlette":
        asyncio.run(serve_plain(bare_starlette_app(), args.port))
    elif args.kind == "bolt":
        asyncio.run(serve_plain(bare_bolt_app(config), args.port))
    elif args.kind == "bolt-respond":
        asyncio.run(serve_plain(bare_bolt_app(config, respond_after_ack=True), args.port))
    elif args.kind == "streamops":
        asyncio.run(serve_streamops(config, args.port))
    else:
        asyncio.run(serve_sandbox(config.get("webhook_base"), config.get("webhook_token", "")))


if __name__ == "__main__":
    main()
