"""Count failed Slack Web API calls by method and error, for every call the app's client makes.

Bolt builds a fresh client per request from the app's client settings, retry handlers included,
so a "retry handler" that never retries is the one place every call's outcome passes through:
it sees each response (an ``ok: false`` body names Slack's error) and each connection failure.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import Metrics


def method_of(request: HttpRequest) -> str:
    """``chat.postMessage`` from ``https://slack.com/api/chat.postMessage``."""
    return request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "unknown"


def error_of(response: HttpResponse | None, error: Exception | None) -> str | None:
    """Slack's error code, ``http_<status>``, ``timeout`` or ``connection_error``; None if ok."""
    if error is not None:
        return "timeout" if isinstance(error, TimeoutError) else "connection_error"
    if response is None:
        return None
    body: Any = response.body
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("error") or f"http_{response.status_code}")[:64]
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    return None


class SlackErrorMeter(AsyncRetryHandler):
    """Records ``streamops_slack_api_errors_total``; never asks for a retry itself.

    Put it first in the client's ``retry_handlers`` so it sees every attempt.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Count a failure; always False (the next handlers decide about retries)."""
        failure = error_of(response, error)
        if failure is not None:
            self.metrics.slack_errors.labels(method_of(request), failure).inc()
        return False
