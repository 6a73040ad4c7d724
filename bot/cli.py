"""The ``streamops`` command line: ``serve``, ``db``, and each feature's own commands.

Every subcommand sets ``run``: an async function ``(args, settings) -> exit code``.
A settings problem ends the program with one line naming it, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

Runner = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def configure_logging(level: str) -> None:
    """Plain stdlib logging; httpx's per-request INFO lines are silenced (they carry URLs)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import serve

    await serve(
        settings,
        host=args.host,
        port=args.port,
        socket_mode=args.socket_mode,
        migrate=settings.auto_migrate and not args.no_migrate,
    )
    return 0


async def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        heads = ", ".join(sorted(await migrate.current_heads(db)))
    finally:
        await db.dispose()
    print(f"database is at {heads}")
    return 0


async def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        current = await migrate.current_heads(db)
        expected = migrate.script_heads()
    finally:
        await db.dispose()
    print(f"database: {', '.join(sorted(current)) or '(empty)'}")
    print(f"code expects: {', '.join(sorted(expected))}")
    return 0 if current == expected else 1


async def _sandbox(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.sandbox.runner import run_forever

    await run_forever(
        args.host, (args.streampixel_port, args.streamstack_port, args.streamapi_port)
    )
    return 0


async def _demo(args: argparse.Namespace, settings: Settings | None) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # the terminal is the demo's chat window
    from bot.demo.console import run_demo

    return await run_demo(
        script=args.script, user=args.as_user, pace=args.pace, reply_within=args.expect_timeout
    )


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (features add their subcommands here)."""
    parser = argparse.ArgumentParser(prog="streamops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the bot (HTTP, or Slack over Socket Mode)")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")  # noqa: S104
    serve.add_argument("--port", type=int, default=3000, help="port to bind (default 3000)")
    serve.add_argument(
        "--socket-mode",
        action="store_true",
        help="receive Slack over Socket Mode (needs SLACK_APP_TOKEN); webhooks stay on HTTP",
    )
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not apply database migrations at start-up"
    )
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply every pending migration").set_defaults(run=_db_upgrade)
    db_sub.add_parser("current", help="show the applied and expected revisions").set_defaults(
        run=_db_current
    )

    sandbox = sub.add_parser(
        "sandbox", help="run the three provider simulators locally and print their settings"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--streampixel-port", type=int, default=8101)
    sandbox.add_argument("--streamstack-port", type=int, default=8102)
    sandbox.add_argument("--streamapi-port", type=int, default=8103)
    sandbox.set_defaults(run=_sandbox, needs_settings=False)

    demo = sub.add_parser(
        "demo",
        help="try the whole bot locally: simulated providers, a fake Slack and a chat console",
    )
    demo.add_argument(
        "--script", type=Path, help="play a scripted conversation instead of reading the keyboard"
    )
    demo.add_argument(
        "--as",
        dest="as_user",
        default="admin",
        metavar="USER",
        help="who types: admin (default), viewer (no roles) or any Slack user id",
    )
    demo.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="multiply the simulated pipelines' stage durations (default 1.0)",
    )
    demo.add_argument(
        "--expect-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long a script's `expect:` waits for its reply (default 5)",
    )
    demo.set_defaults(run=_demo, needs_settings=False)

    for register in _feature_clis():
        register(sub)
    return parser


def _feature_clis() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    from bot import cli_audit

    return [cli_audit.register_cli]


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, int]], int]:
    """``uvloop.run`` where uvloop is installed (faster I/O), else ``asyncio.run``."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``streamops`` console script."""
    args = build_parser().parse_args(argv)
    settings: Settings | None = None
    if getattr(args, "needs_settings", True):
        try:
            settings = load_settings()
        except ConfigError as exc:
            print(f"streamops: {exc}", file=sys.stderr)
            return 2
    configure_logging(settings.log_level if settings else "INFO")
    try:
        code: int = _event_loop_runner()(args.run(args, settings))
        return code
    except ConfigError as exc:
        print(f"streamops: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
