"""Plain HTTP routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.container import Container
from bot.metrics import Metrics
from bot.metrics_db import QueueGauges
from bot.services.health import database_problem
from bot.slack_check import SlackProbe, probe_client

log = logging.getLogger("streamops.http")


def routes(container: Container, metrics: Metrics) -> list[Route]:
    """``/healthz``, ``/readyz`` and ``/metrics``."""
    gauges = QueueGauges(container.db, metrics, clock=container.clock)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    slack_probe = SlackProbe(probe_client(container.slack))

    async def readyz(_: Request) -> Response:
        slack = await slack_probe.status()
        if slack != "ok":
            return JSONResponse({"status": "unavailable", "slack": slack}, status_code=503)
        try:
            problem = await database_problem(container.db)
        except Exception as exc:  # any failure means "not ready"; say which kind
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse(
                {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
                status_code=503,
            )
        if problem is not None:
            return JSONResponse({"status": "unavailable", "database": problem}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "slack": slack})

    async def metrics_endpoint(_: Request) -> Response:
        try:
            await gauges.refresh()
        except Exception as exc:  # serve the in-memory metrics even when the database is down
            log.warning("metrics: database gauges not refreshed: %s", type(exc).__name__)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
