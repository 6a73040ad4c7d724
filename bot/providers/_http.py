"""What the three provider clients share: retries, error mapping, secret hygiene.

Idempotent reads are retried on timeouts, connection errors and 5xx with
exponential backoff and full jitter; a 429 is waited out when the provider
says for how long (and the wait is short enough). State-changing calls are
sent once: a timeout there may mean the provider acted, so we never guess.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.errors import (
    AuthFailed,
    Forbidden,
    InvalidRequest,
    ProviderError,
    ProviderNotFound,
    ProviderUnavailable,
    RateLimited,
)
from bot.redact import protect_loggers
from bot.tls import tls_context

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent reads are retried."""

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_rate_limit_wait: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential delay before retry number ``attempt`` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _unavailable(error: ProviderError) -> bool:
    return isinstance(error, ProviderUnavailable)


def retrying(
    policy: RetryPolicy,
    *,
    idempotent: bool,
    sleep: Sleep,
    transient: Callable[[ProviderError], bool] = _unavailable,
) -> AsyncRetrying:
    """The retry loop for one call: reads retry ``transient`` errors and short 429s; writes never.

    A 429 whose ``Retry-After`` is at most ``policy.max_rate_limit_wait`` is waited
    out for exactly that long; other retries back off with full jitter.
    """

    def should_retry(exc: BaseException) -> bool:
        if isinstance(exc, RateLimited):
            wait = exc.retry_after
            return wait is not None and wait <= policy.max_rate_limit_wait
        return isinstance(exc, ProviderError) and transient(exc)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        return policy.backoff(state.attempt_number)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts if idempotent else 1),
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=sleep,
        reraise=True,
    )


def error_for_status(
    provider: str, status: int, message: str, *, retry_after: float | None = None
) -> ProviderError:
    """Map an HTTP status to the shared error class, carrying the provider's words."""
    if status == 401:
        return AuthFailed(provider, message, status=status)
    if status == 403:
        return Forbidden(provider, message, status=status)
    if status == 404:
        return ProviderNotFound(provider, message, status=status)
    if status == 429:
        return RateLimited(provider, message, retry_after=retry_after, status=status)
    if status >= 500:
        return ProviderUnavailable(provider, message, status=status)
    return InvalidRequest(provider, message, status=status)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), if any."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ProviderHTTP:
    """Sends requests for one provider and turns failures into :mod:`bot.errors`.

    Args:
        provider: the provider's name, used in error messages.
        client: the injected, long-lived ``httpx.AsyncClient`` (base URL set).
        secrets: values that must never reach a log line.
        retry: the retry policy for idempotent calls.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        provider: str,
        client: httpx.AsyncClient,
        *,
        secrets: tuple[str | None, ...] = (),
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.client = client
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        protect_loggers(*secrets)

    async def send(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        error_from: Callable[[httpx.Response], ProviderError] | None = None,
    ) -> httpx.Response:
        """Send one request (retrying reads) and return the 2xx response.

        Args:
            error_from: builds the error for a non-2xx response from the
                provider's own error format; defaults to status + body text.

        Raises:
            ProviderError: a subclass naming what went wrong, without URLs or keys.
        """
        async for attempt in retrying(self.retry, idempotent=idempotent, sleep=self._sleep):
            with attempt:
                return await self._send_once(method, path, params, json, data, headers, error_from)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        error_from: Callable[[httpx.Response], ProviderError] | None,
    ) -> httpx.Response:
        try:
            response = await self.client.request(
                method, path, params=params, json=json, data=data, headers=headers
            )
        except httpx.TimeoutException:
            raise ProviderUnavailable(self.provider, "timed out") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                self.provider, f"could not connect ({type(exc).__name__})"
            ) from None
        if response.is_success:
            return response
        raise (error_from or self._default_error)(response)

    def _default_error(self, response: httpx.Response) -> ProviderError:
        message = response.reason_phrase or f"HTTP {response.status_code}"
        return error_for_status(
            self.provider,
            response.status_code,
            message,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


def make_client(
    base_url: str,
    *,
    timeout: float,
    max_connections: int,
    headers: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The long-lived client a provider is built on (one per provider)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=max_connections),
        headers=dict(headers or {}),
        transport=transport,
        verify=tls_context(),  # used only without ``transport`` (and for proxies from the env)
    )
