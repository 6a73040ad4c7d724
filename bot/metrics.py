"""Prometheus metrics, served at ``GET /metrics``.

Counters and histograms count what *this* replica did (sum them across replicas). Queue depths
(outbox backlog and age, failed deliveries, audit rows, last webhook per provider) describe the
shared database: they are read from it when scraped (:mod:`bot.metrics_db`, cached a few
seconds), so every replica reports the same values (take ``max`` across replicas).
README.md § Metrics documents each one.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """One registry per app instance (so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "streamops_http_requests_total",
            "HTTP requests served, by route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "streamops_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        # -- what this replica did -------------------------------------------
        self.webhooks = Counter(
            "streamops_webhooks_total",
            "Provider webhooks received, by provider and outcome (accepted, duplicate, ignored:"
            " an event we do not post, unauthorized, invalid, too_large).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.provider_requests = Counter(
            "streamops_provider_requests_total",
            "HTTP requests to provider APIs (each attempt), by provider, operation and outcome"
            " (ok, client_error, rate_limited, server_error, timeout, connection_error).",
            ["provider", "operation", "outcome"],
            registry=self.registry,
        )
        self.provider_latency = Histogram(
            "streamops_provider_request_duration_seconds",
            "Time a provider API request took, by provider and operation.",
            ["provider", "operation"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        )
        self.notification_delay = Histogram(
            "streamops_notification_delay_seconds",
            "From a webhook received to its notification accepted by Slack, by provider.",
            ["provider"],
            registry=self.registry,
            buckets=(0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
        )
        self.slack_errors = Counter(
            "streamops_slack_api_errors_total",
            "Slack Web API calls that failed, by method and error (Slack's error code,"
            " http_<status>, timeout or connection_error).",
            ["method", "error"],
            registry=self.registry,
        )
        # -- the shared database, read at scrape time (bot.metrics_db) --------
        self.outbox_backlog = Gauge(
            "streamops_outbox_backlog",
            "Notifications waiting to be delivered to Slack (all replicas).",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "streamops_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification (0 when none waits).",
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "streamops_outbox_failed",
            "Notifications given up on (a permanent Slack error), waiting for an admin's Retry.",
            registry=self.registry,
        )
        self.audit_rows = Gauge(
            "streamops_audit_rows",
            "Rows in the audit log.",
            registry=self.registry,
        )
        self.webhook_last_received = Gauge(
            "streamops_webhook_last_received_timestamp_seconds",
            "When the last webhook of each provider was stored (Unix time).",
            ["provider"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Pure ASGI middleware counting requests by their route *template*.

    Webhook paths carry a secret token, so the label is the route's path
    template (``/webhooks/streampixel/{token}``), never the raw path.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.latency.labels(method, label).observe(time.perf_counter() - start)
