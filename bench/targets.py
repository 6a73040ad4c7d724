"""The processes a benchmark run starts, one kind per invocation.

``python bench/targets.py KIND --port N [--cpu C]`` where KIND is

- ``starlette``: a bare Starlette endpoint on ``POST /slack/events`` (reads the body, 200);
- ``bolt``: a bare slack-bolt ``AsyncApp`` behind ``AsyncSlackRequestHandler`` whose
  command listeners only ``ack()``;
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
import importlib.util
import json
import os
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


def audit_log_available() -> bool:
    """Whether main has the database-backed audit log (``storage.audit``)."""
    return importlib.util.find_spec("storage.audit") is not None


def bare_starlette_app() -> Starlette:
    """Baseline (a): read the request body and answer 200 with an empty body."""

    async def slack_events(request: Request) -> Response:
        await request.body()
        return Response(status_code=200)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


def bare_bolt_app(config: dict[str, str]) -> Starlette:
    """Baseline (b): Bolt with signature checks, served like StreamOps, listeners only ack."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=config["SLACK_BOT_TOKEN"], base_url=config["SLACK_API_URL"]),
        signing_secret=config["SLACK_SIGNING_SECRET"],
        process_before_response=False,
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    for command in COMMANDS:
        bolt.command(command)(only_ack)
    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])


class MemoryAuditor:
    """Keeps audit events in memory; used only while main lacks ``storage.audit``."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def record(self, event: Any) -> None:
        """Keep ``event``."""
        self.events.append(event)


async def serve_streamops(config: dict[str, str], port: int) -> None:
    """Run StreamOps the way ``streamops serve`` does (migrations, then uvicorn)."""
    from bot.settings import Settings

    values: dict[str, Any] = dict(config)
    settings = Settings(_env_file=None, **values)
    if audit_log_available():
        from bot.server import serve

        await serve(settings, host="127.0.0.1", port=port)
        return
    # main has no storage.audit yet: same wiring with an in-memory auditor.
    from bot.app import create_app
    from bot.deps import build_deps
    from storage.migrate import upgrade

    app = create_app(settings, build_deps(settings, audit=MemoryAuditor()))
    await upgrade(app.state.deps.db)
    await uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level=settings.log_level.lower())
    ).serve()


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
    parser.add_argument("kind", choices=["starlette", "bolt", "streamops", "sandbox"])
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
    elif args.kind == "streamops":
        asyncio.run(serve_streamops(config, args.port))
    else:
        asyncio.run(serve_sandbox(config.get("webhook_base"), config.get("webhook_token", "")))


if __name__ == "__main__":
    main()
