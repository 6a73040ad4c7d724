"""The ``streamops`` command line: ``demo``, ``serve``, ``db``, ``sandbox`` and each feature's own.

Every subcommand sets ``run``: an async function ``(args, settings) -> exit code``.
A settings problem ends the program with one line naming it, not a traceback.
The help texts are for users; this docstring is not shown to them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

Runner = Callable[[argparse.Namespace, Settings], Awaitable[int]]

#: Where ``streamops serve`` listens by default: the sandbox's webhook target.
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:3000"


def configure_logging(level: str) -> None:
    """Plain stdlib logging; httpx's per-request INFO lines are silenced (they carry URLs)."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _serve(args: argparse.Namespace, settings: Settings) -> Coroutine[Any, Any, int]:
    # Not a coroutine function: prepare() checks the settings and forks the migrations'
    # child before the event loop starts.
    from bot.server import prepare, serve

    upgrade = prepare(
        settings,
        socket_mode=args.socket_mode,
        migrate=settings.auto_migrate and not args.no_migrate,
    )

    async def served() -> int:
        await serve(
            settings, host=args.host, port=args.port, socket_mode=args.socket_mode, upgrade=upgrade
        )
        return 0

    return served()


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

    token = args.webhook_token or os.environ.get("STREAMOPS_WEBHOOK_TOKEN") or None
    await run_forever(
        args.host,
        (args.streampixel_port, args.streamstack_port, args.streamapi_port),
        webhook_base=args.webhook_url.rstrip("/"),
        webhook_token=token,
    )
    return 0


async def _demo(args: argparse.Namespace, settings: Settings | None) -> int:
    logging.getLogger().setLevel(logging.WARNING)  # the terminal is the demo's chat window
    for developer_notes in ("streamops.bolt", "slack_bolt"):
        # Bolt's advice to developers ("Unhandled request" with a code snippet) is not chat.
        logging.getLogger(developer_notes).setLevel(logging.ERROR)
    from bot.demo.console import run_demo
    from bot.demo.stack import sqlite_url

    database_url = sqlite_url(args.db.resolve()) if args.db else None
    if args.web:
        from bot.demo.web.run import serve_web_demo

        return await serve_web_demo(
            host=args.host, port=args.port, database_url=database_url, pace=args.pace
        )
    return await run_demo(
        script=args.script,
        user=args.as_user,
        database_url=database_url,
        pace=args.pace,
        reply_within=args.expect_timeout,
    )


DESCRIPTION = """\
StreamOps runs your Streampixel builds, StreamStack videos and StreamAPI live
sessions from Slack: slash commands, buttons on channel notifications, roles,
and an audit log of who did what."""

EPILOG = """\
start here:
  streamops demo              chat with the bot in this terminal; no Slack
                              workspace, provider account or settings needed
  streamops demo --web        the same demo in your browser, looking like Slack
  streamops serve             run the bot for your Slack workspace (it reads its
                              settings from the environment or a .env file)

`streamops COMMAND --help` shows a command's options."""

_RAW = argparse.RawDescriptionHelpFormatter


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the bot for your Slack workspace",
        formatter_class=_RAW,
        description="""\
Run the bot. Slack sends slash commands, clicks and events to
POST /slack/events; the providers send webhooks to
POST /webhooks/streampixel/TOKEN and /webhooks/streamstack/TOKEN.
Settings come from the environment or a .env file: at least SLACK_BOT_TOKEN
and SLACK_SIGNING_SECRET (the README lists them all).""",
        epilog="""\
examples:
  streamops serve                      listen on port 3000
  streamops serve --socket-mode        no public URL: Slack connects over a socket""",
    )
    serve.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104
        help="the address to listen on (default: 0.0.0.0, every interface)",
    )
    serve.add_argument("--port", type=int, default=3000, help="the port (default: 3000)")
    serve.add_argument(
        "--socket-mode",
        action="store_true",
        help="receive Slack through Socket Mode (needs SLACK_APP_TOKEN); "
        "provider webhooks still arrive over HTTP",
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not update the database schema at start-up (run `streamops db upgrade` first)",
    )
    serve.set_defaults(run=_serve)


def _add_db(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser(
        "db",
        help="create, update or check the database schema",
        description="Create, update or check the schema of the database named by DATABASE_URL "
        "(default: ./streamops.db).",
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, title="commands", metavar="STEP")
    db_sub.add_parser(
        "upgrade", help="create the tables, or bring them up to date", description=(
            "Create the tables, or bring them up to date with this version of StreamOps."
        ),
    ).set_defaults(run=_db_upgrade, needs_settings="database")  # fmt: skip
    db_sub.add_parser(
        "current", help="say whether the schema is up to date (exit 1 if not)", description=(
            "Show the database's schema version and the one this version of StreamOps "
            "expects; exit 1 when they differ."
        ),
    ).set_defaults(run=_db_current, needs_settings="database")  # fmt: skip


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = sub.add_parser(
        "sandbox",
        help="run local stand-ins for the three provider APIs",
        formatter_class=_RAW,
        description="""\
Run local stand-ins for Streampixel, StreamStack and StreamAPI, with demo
projects, videos and live hosts, and print the `export` lines that point
`streamops serve` at them. Their build and transcoding pipelines post their
webhooks to the bot at --webhook-url.""",
        epilog="""\
example, in two terminals:
  streamops sandbox > sandbox.env      then, once it is up:
  . ./sandbox.env && streamops serve""",
    )
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    sandbox.add_argument("--streampixel-port", type=int, default=8101, metavar="PORT",
                         help="Streampixel's port (default: 8101)")  # fmt: skip
    sandbox.add_argument("--streamstack-port", type=int, default=8102, metavar="PORT",
                         help="StreamStack's port (default: 8102)")  # fmt: skip
    sandbox.add_argument("--streamapi-port", type=int, default=8103, metavar="PORT",
                         help="StreamAPI's port (default: 8103)")  # fmt: skip
    sandbox.add_argument(
        "--webhook-url",
        default=DEFAULT_WEBHOOK_URL,
        metavar="URL",
        help=f"where the bot runs: webhooks go to URL/webhooks/PROVIDER/TOKEN "
        f"(default: {DEFAULT_WEBHOOK_URL}, where `streamops serve` listens)",
    )
    sandbox.add_argument(
        "--webhook-token",
        metavar="TOKEN",
        help="the TOKEN in webhook URLs (default: $STREAMOPS_WEBHOOK_TOKEN, else a new one, "
        "printed as an export line)",
    )
    sandbox.set_defaults(run=_sandbox, needs_settings=False)


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo",
        help="try the whole bot on this machine, no Slack or accounts needed",
        formatter_class=_RAW,
        description="""\
Try StreamOps on this machine: the real bot, local stand-ins for Slack and
the three providers, and a chat console where you type slash commands as a
Slack user. Every run starts from a clean, empty database.""",
        epilog="""\
in the console:
  /build projects     a slash command, as in Slack
  1                   click the button shown as [1]
  as viewer           type as another user: admin, releaser or viewer
  help, quit

examples:
  streamops demo
  streamops demo --web                 open the page it prints
  streamops demo --script bot/demo/walkthrough.txt""",
    )
    demo.add_argument(
        "--web",
        action="store_true",
        help="show the demo workspace in your browser instead of this terminal",
    )
    demo.add_argument(
        "--port", type=int, default=8000, help="the page's port with --web (default: 8000)"
    )
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="the page's address with --web (default: 127.0.0.1, this machine only)",
    )
    demo.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help="play a scripted conversation and exit 1 at the first reply that does not come",
    )
    demo.add_argument(
        "--as",
        dest="as_user",
        default="admin",
        metavar="USER",
        help="who types first: admin (default), releaser, viewer (no role) or a Slack user id",
    )
    demo.add_argument(
        "--db",
        type=Path,
        metavar="FILE",
        help="keep the bot's data in this SQLite file (default: a new temporary one each run)",
    )
    demo.add_argument(
        "--pace",
        type=float,
        default=1.0,
        help="how slowly the simulated pipelines run: 0.2 is five times faster (default: 1.0)",
    )
    demo.add_argument(
        "--expect-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long a script's `expect:` waits for its reply (default: 5)",
    )
    demo.set_defaults(run=_demo, needs_settings=False)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (features add their subcommands here)."""
    parser = argparse.ArgumentParser(
        prog="streamops", description=DESCRIPTION, epilog=EPILOG, formatter_class=_RAW
    )
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    _add_demo(sub)
    _add_serve(sub)
    _add_db(sub)
    _add_sandbox(sub)
    for register in _feature_clis():
        register(sub)
    _describe(parser)
    return parser


def _describe(parser: argparse.ArgumentParser) -> None:
    """Every command's ``--help`` opens with a sentence: its one-line help, where it has none."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help for choice in action._choices_actions}
        for name, child in action.choices.items():
            summary = summaries.get(name)
            if child.description is None and summary:
                child.description = summary[0].upper() + summary[1:] + "."
            _describe(child)


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


def _no_slack_needed() -> dict[str, str]:
    """Stand-ins for the Slack settings a database-only command never uses."""
    unused = "unused-by-this-command"
    return {
        name: unused
        for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        if not os.environ.get(name)
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``streamops`` console script."""
    args = build_parser().parse_args(argv)
    if args.run is _serve:
        # Start-up imports ~1,200 modules and builds the app: objects that live as long
        # as the process, so the collector's passes over them find nothing (~15 % of the
        # start-up's CPU). bot.server.freeze_startup_heap collects, freezes and enables it
        # again before the first request.
        gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    settings: Settings | None = None
    needs = getattr(args, "needs_settings", True)
    if needs:
        try:
            settings = load_settings(**(_no_slack_needed() if needs == "database" else {}))
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
