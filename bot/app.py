"""The composition root: ``create_app(settings)`` builds the whole ASGI application.

One Starlette app serves Slack (``POST /slack/events``: slash commands,
interactivity and events), provider webhooks, health and metrics. Nothing
here runs at import; :func:`create_app` does no I/O either — connections are
opened lazily and background jobs start in the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import handlers
from bot import ack_runner
from bot.deps import Deps, build_deps
from bot.metrics import MetricsMiddleware
from bot.redact import protect_loggers
from bot.settings import Settings
from handlers import http as http_routes
from handlers import webhooks as webhook_routes
from storage.audit_keys import split_keys

log = logging.getLogger("streamops.app")


def create_bolt_app(deps: Deps) -> AsyncApp:
    """The Bolt app with every listener registered (signature checks built in)."""
    settings = deps.settings
    app = AsyncApp(
        client=deps.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
        logger=logging.getLogger("streamops.bolt"),
    )
    handlers.register(app, deps)
    ack_runner.install(app)  # acks without Bolt's 10 ms poll; bounded post-ack work
    return app


def create_app(settings: Settings, deps: Deps | None = None) -> Starlette:
    """Build the ASGI application.

    Args:
        settings: the loaded settings.
        deps: prebuilt dependencies (tests inject theirs); built from settings if omitted.
    """
    deps = deps or build_deps(settings)
    protect_loggers(*_secret_values(settings))
    bolt = create_bolt_app(deps)
    slack_handler = AsyncSlackRequestHandler(bolt)
    metrics = deps.metrics

    admission = ack_runner.Admission()

    async def slack_events(request: Request) -> Response:
        if not admission.admit(request.headers.get("content-type", "")):
            return Response(ack_runner.BUSY_BODY, media_type="application/json")
        try:
            return await slack_handler.handle(request)
        finally:
            admission.release()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(job()) for job in deps.background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ack_runner.aclose(bolt)
            await deps.aclose()

    app = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            *http_routes.routes(deps, metrics),
            *webhook_routes.routes(deps),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
        lifespan=lifespan,
    )
    app.state.deps = deps
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
