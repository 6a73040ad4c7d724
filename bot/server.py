"""Run the app: uvicorn for HTTP, plus a Socket Mode connection when asked."""

from __future__ import annotations

import contextlib
import gc
import logging

import uvicorn

from bot.datadir import check_data_directory
from bot.errors import ConfigError
from bot.settings import Settings
from storage.migrate import ChildUpgrade, current_heads

log = logging.getLogger("streamops.server")


def prepare(settings: Settings, *, socket_mode: bool, migrate: bool) -> ChildUpgrade | None:
    """Refuse what :func:`serve` cannot run with, then start the pending migrations.

    Call it before the event loop starts (the migrations run in a forked child).

    Args:
        socket_mode: Slack over Socket Mode (needs ``SLACK_APP_TOKEN``).
        migrate: apply pending migrations before accepting requests.

    Raises:
        ConfigError: in production (STREAMOPS_ENV) without STREAMOPS_AUDIT_KEY, with
            ``socket_mode`` but no SLACK_APP_TOKEN, or a data directory that cannot be used.
    """
    settings.require_audit_key()
    if socket_mode and settings.slack_app_token is None:
        raise ConfigError("missing required setting SLACK_APP_TOKEN (needed by --socket-mode)")
    check_data_directory(settings.database_url)
    # A child process applies what the database lacks: Alembic (~10 MB resident) never
    # loads into the server, and on a fresh database the migrations overlap, on another
    # core, with the server importing its ~650 remaining modules.
    return ChildUpgrade.start(settings.database_url) if migrate else None


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    socket_mode: bool = False,
    upgrade: ChildUpgrade | None = None,
) -> None:
    """Serve until interrupted (after :func:`prepare`).

    Args:
        socket_mode: receive Slack over Socket Mode (``SLACK_APP_TOKEN``); the
            webhook, health and metrics routes are still served over HTTP.
        upgrade: the migrations :func:`prepare` started; requests wait for them.

    Raises:
        ConfigError: a token Slack refuses (``auth.test``).
    """
    try:
        # here, not at the top, so that they load while the migrations run
        from bot.app import create_app
        from bot.container import make_slack_client
        from bot.slack_check import verify_bot_token

        await verify_bot_token(make_slack_client(settings))  # a bad token: one line, exit 2
        app = create_app(settings)
    except BaseException:
        if upgrade is not None:  # never leave a migration half-run: let it end first
            with contextlib.suppress(RuntimeError):
                await upgrade.finish()
        raise
    container = app.state.container
    if upgrade is not None:
        await upgrade.finish()
        log.info(
            "database schema is current (%s)", ", ".join(sorted(await current_heads(container.db)))
        )
    # No access log: request counts and latency are in /metrics, and webhook paths carry
    # the webhook token (masked by bot.redact, but better never written).
    config = uvicorn.Config(
        app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False
    )
    server = uvicorn.Server(config)
    freeze_startup_heap()
    if not socket_mode:
        await server.serve()
        return

    from bot.socket_mode import connect_socket_mode

    assert settings.slack_app_token is not None
    handler = await connect_socket_mode(
        app.state.bolt, settings.slack_app_token.get_secret_value(), container.claims
    )
    try:
        await server.serve()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # untyped in slack_bolt


def freeze_startup_heap() -> None:
    """Move everything built so far (modules, app, container) out of the collector's reach.

    The server holds ~100 MB of objects that live as long as the process; each
    full collection walked all of them (200-800 ms of CPU every few thousand
    requests, ~0.5 ms per request at 100 req/s). Frozen objects are never
    collected; what requests allocate is collected as before.

    ``streamops serve`` starts with the collector off (:func:`bot.cli.main`):
    start-up only builds what lives as long as the process (~216,000 tracked
    objects). It is enabled again here, *without* a collection first: a full
    pass over that heap took ~150 ms of the start-up and found ~1,900
    unreachable objects (measured on the 2-core bench machine), which now stay
    frozen: a few hundred KB, once per process.
    """
    gc.freeze()
    gc.enable()
