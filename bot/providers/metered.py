"""An httpx transport that counts and times every provider request (each retry attempt too).

The operation label is the method and the path with identifiers replaced by ``{id}`` (and no
query string), so label values stay few and never carry ids or keys.
"""

from __future__ import annotations

import re
import time

import httpx

from bot.metrics import Metrics
from bot.tls import tls_context

#: A path segment that is an identifier: digits, or a long hex/uuid/token-like value.
_ID = re.compile(r"^(?=.*\d)[A-Za-z0-9_.:-]{6,}$|^\d+$")


def operation(request: httpx.Request) -> str:
    """``"GET /api/v1/media/{id}"`` for a request to ``/api/v1/media/<uuid>?x=1``."""
    parts = ["{id}" if _ID.match(part) else part for part in request.url.path.split("/")]
    return f"{request.method} {'/'.join(parts)}"


def outcome_of(status: int) -> str:
    """The outcome label of an HTTP status."""
    if status < 400:
        return "ok"
    if status == 429:
        return "rate_limited"
    return "client_error" if status < 500 else "server_error"


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner``, recording ``streamops_provider_requests_total`` and the latency.

    Args:
        provider: the provider label.
        metrics: where to record.
        inner: the real transport (a pooled ``httpx.AsyncHTTPTransport`` by default).
        max_connections: the pool size of the default inner transport.
    """

    def __init__(
        self,
        provider: str,
        metrics: Metrics,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        max_connections: int = 20,
    ) -> None:
        self.provider = provider
        self.metrics = metrics
        self.inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections), verify=tls_context()
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request, recording its outcome and duration."""
        op = operation(request)
        started = time.perf_counter()
        outcome = "connection_error"
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TimeoutException:
            outcome = "timeout"
            raise
        else:
            outcome = outcome_of(response.status_code)
            return response
        finally:
            self.metrics.provider_requests.labels(self.provider, op, outcome).inc()
            self.metrics.provider_latency.labels(self.provider, op).observe(
                time.perf_counter() - started
            )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()
