"""The composition root: ``create_app(settings)`` builds the whole ASGI application.

One Starlette app serves Slack (``POST /slack/events``: slash commands,
interactivity and events), provider webhooks, health and metrics. Nothing
here runs at import; :func:`create_app` does no I/O either — connections are
opened lazily and background jobs start in the lifespan.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from slack_bolt.adapter.starlette.async_handler import (
    AsyncSlackRequestHandler,
    to_starlette_response,
)
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import ack_runner
from bot.audit import Auditor
from bot.container import Clock, Container, build_container, utcnow
from bot.jobs.loop import run_jobs
from bot.jobs.outbox_worker import OutboxOptions
from bot.metrics import MetricsMiddleware
from bot.redact import protect_loggers
from bot.settings import Settings
from handlers import http as http_routes
from handlers import slack as slack_listeners
from handlers import webhooks as webhook_routes
from handlers.blocks.notifications import NOTIFICATIONS
from handlers.intake import SlackIntakeGuard, parsed_bolt_request, quiet_slack_request_logs
from storage.audit_keys import split_keys
from storage.db import Database

log = logging.getLogger("streamops.app")


def create_bolt_app(container: Container) -> AsyncApp:
    """The Bolt app with every listener registered (signature checks built in)."""
    settings = container.settings
    app = AsyncApp(
        client=container.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
        logger=logging.getLogger("streamops.bolt"),
    )
    slack_listeners.register(app, container)
    # acks without Bolt's 10 ms poll; bounded post-ack work; respond() on one pooled session
    ack_runner.install(app, responses=container.responses)
    return app


def _runner(bolt: AsyncApp) -> ack_runner.PostAckRunner | None:
    runner = bolt._async_listener_runner  # Bolt has no getter
    return runner if isinstance(runner, ack_runner.PostAckRunner) else None


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    audit: Auditor | None = None,
    clock: Clock = utcnow,
    outbox_options: OutboxOptions | None = None,
) -> Starlette:
    """Build the ASGI application: the container once, then the Bolt and Starlette apps.

    Args:
        settings: the loaded settings.
        db, audit, clock, outbox_options: overrides for tests (see
            :func:`bot.container.build_container`).
    """
    container = build_container(
        settings,
        renderer=NOTIFICATIONS,
        db=db,
        audit=audit,
        clock=clock,
        outbox_options=outbox_options,
    )
    protect_loggers(*_secret_values(settings))
    quiet_slack_request_logs()
    bolt = create_bolt_app(container)
    slack_handler = AsyncSlackRequestHandler(bolt)
    metrics = container.metrics

    admission = ack_runner.Admission(
        runner=_runner(bolt), signing_secret=settings.slack_signing_secret.get_secret_value()
    )

    async def slack_events(request: Request) -> Response:
        if not admission.admit(request.headers.get("content-type", "")):
            status, body = admission.refusal(await request.body(), request.headers)
            return Response(body, status_code=status, media_type="application/json")
        try:
            parsed = parsed_bolt_request(request.scope)
            if parsed is None:
                return await slack_handler.handle(request)
            # The intake guard already read the body into Bolt's request: dispatch that one.
            return to_starlette_response(await bolt.async_dispatch(parsed))
        finally:
            admission.release()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            async with run_jobs(container.jobs):
                yield
        finally:
            await container.aclose()

    app = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            *http_routes.routes(container, metrics),
            *webhook_routes.routes(container),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(SlackIntakeGuard),  # size, timestamp and UTF-8 before Bolt reads
        ],
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.bolt = bolt
    return app


def _secret_values(settings: Settings) -> list[str]:
    secrets = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.streampixel_api_key,
        settings.streamstack_api_key,
        settings.streamapi_key,
        settings.streamapi_secret,
        settings.webhook_token,
        settings.streamstack_webhook_secret,
        settings.audit_key,
    ]
    retired = settings.audit_retired_keys
    return [s.get_secret_value() for s in secrets if s is not None] + split_keys(
        retired.get_secret_value() if retired else None
    )
