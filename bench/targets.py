"""The processes a benchmark run starts, one kind per invocation.

``python bench/targets.py KIND --port N [--cpu C]`` where KIND is

- ``starlette``: a bare Starlette endpoint on ``POST /slack/events`` (reads the body, 200);
- ``bolt``: a bare slack-bolt ``AsyncApp`` behind ``AsyncSlackRequestHandler`` whose
  command listeners only ``ack()``;
- ``bolt-respond``: the same, but each listener also posts one ``respond()`` to the
  ``response_url`` after acking, as StreamOps' ``/streamops help`` does (a diagnostic
  baseline: Bolt's own follow-up cost on the same core);
- ``stack``: the libraries ``streamops serve`` is built on and none of its code (the floor
  under its idle memory and start-up): the bare Bolt app, plus what ``serve`` sets up
  before its first request: pydantic-settings, a SQLModel table on an aiosqlite engine
  with its connection open, an httpx client with a verifying TLS context, a Prometheus
  counter, tenacity, and ``auth.test`` through Bolt's Web API client; ``GET /healthz``
  answers 200 after a query;
- ``streamops``: the real app (``bot.server.serve``, i.e. ``streamops serve``) with
  migrations applied at start-up;
- ``sandbox``: the fake Slack Web API and the three provider simulators; prints one
  JSON line with their URLs and settings, then serves until terminated.

Settings come as a JSON object in the ``BENCH_CONFIG`` environment variable (not
argv, so the signing secret never shows in a process listing). The servers run
the way ``streamops serve`` runs: on uvloop (``uvloop.run``, as ``bot.cli`` does)
and uvicorn's default HTTP protocol (httptools when installed, as it is with
StreamOps), one worker, no access log; so they differ only in the app. Each
prints one ``BENCH-RUNTIME {...}`` line on stderr naming the running event loop
and the HTTP protocol class, which ``bench/run.py`` records and checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
import uvloop
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

    app = Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"])])
    app.state.bolt = bolt
    return app


def stack_floor_app(config: dict[str, str]) -> Starlette:
    """Baseline (c): every third-party package ``serve`` loads, each used once the way
    ``serve`` uses it at start-up, around the bare Bolt app; no StreamOps module."""
    import contextlib
    from collections.abc import AsyncIterator

    import httpx
    import prometheus_client
    import tenacity
    from pydantic_settings import BaseSettings, SettingsConfigDict
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import Field, SQLModel, select

    class FloorSettings(BaseSettings):
        model_config = SettingsConfigDict(extra="ignore")
        database_url: str
        slack_bot_token: str

    class FloorRow(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True, max_length=80)

    settings = FloorSettings(
        database_url=config["DATABASE_URL"], slack_bot_token=config["SLACK_BOT_TOKEN"]
    )
    requests = prometheus_client.Counter("floor_requests", "Health checks answered")
    engine = create_async_engine(settings.database_url)
    bolt_routes = bare_bolt_app(config)

    async def healthz(_: Request) -> Response:
        async with engine.connect() as connection:
            await connection.execute(select(FloorRow.id).limit(1))
        requests.inc()
        return Response(status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async for attempt in tenacity.AsyncRetrying(stop=tenacity.stop_after_attempt(3)):
            with attempt:
                async with engine.begin() as connection:
                    await connection.run_sync(SQLModel.metadata.create_all)
        await bolt_routes.state.bolt.client.auth_test()
        async with httpx.AsyncClient(verify=httpx.create_ssl_context()):
            yield
        await engine.dispose()

    return Starlette(
        routes=[*bolt_routes.routes, Route("/healthz", healthz, methods=["GET"])],
        lifespan=lifespan,
    )


def report_runtime(kind: str) -> None:
    """Print the running event loop, uvicorn's HTTP protocol and the interpreter's
    optimization settings as one line on stderr."""
    from uvicorn.config import Config

    config = Config(app=bare_starlette_app())  # the defaults bot.server.serve uses
    config.load()
    protocol = config.http_protocol_class
    runtime = {
        "kind": kind,
        "loop": type(asyncio.get_running_loop()).__module__,
        "http": f"{protocol.__module__}.{protocol.__qualname__}",  # type: ignore[union-attr]
        # the Docker image's interpreter settings (bench.image_python)
        "optimize": str(sys.flags.optimize),
        "no_debug_ranges": os.environ.get("PYTHONNODEBUGRANGES", ""),
    }
    print(f"BENCH-RUNTIME {json.dumps(runtime)}", file=sys.stderr, flush=True)


def serve_streamops(config: dict[str, str], port: int) -> Coroutine[Any, Any, None]:
    """Run StreamOps the way ``streamops serve`` does: ``prepare`` (settings checked,
    migrations forked) before the event loop, then ``serve`` (uvicorn once they are applied)."""
    from bot.server import prepare, serve
    from bot.settings import Settings

    values: dict[str, Any] = dict(config)
    settings = Settings(_env_file=None, **values)
    upgrade = prepare(settings, socket_mode=False, migrate=True)

    async def served() -> None:
        report_runtime("streamops")
        await serve(settings, host="127.0.0.1", port=port, upgrade=upgrade)

    return served()


async def serve_plain(kind: str, app: Any, port: int) -> None:
    """Serve a baseline app with the same uvicorn configuration as ``bot.server.serve``."""
    report_runtime(kind)
    await uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level=LOG_LEVEL, access_log=False)
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    kinds = ["starlette", "bolt", "bolt-respond", "stack", "streamops", "sandbox"]
    parser.add_argument("kind", choices=kinds)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    config: dict[str, str] = json.loads(os.environ.get("BENCH_CONFIG", "{}"))
    run = uvloop.run  # what ``streamops serve`` runs on (bot.cli)
    if args.kind == "starlette":
        run(serve_plain(args.kind, bare_starlette_app(), args.port))
    elif args.kind == "bolt":
        run(serve_plain(args.kind, bare_bolt_app(config), args.port))
    elif args.kind == "bolt-respond":
        run(serve_plain(args.kind, bare_bolt_app(config, respond_after_ack=True), args.port))
    elif args.kind == "stack":
        run(serve_plain(args.kind, stack_floor_app(config), args.port))
    elif args.kind == "streamops":
        run(serve_streamops(config, args.port))
    else:
        run(serve_sandbox(config.get("webhook_base"), config.get("webhook_token", "")))


if __name__ == "__main__":
    main()
