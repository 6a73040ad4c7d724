"""A short-lived cache for provider reads, with one request in flight per key.

Twenty people typing ``/build projects`` in the same second should cost the
provider one request, not twenty (Streampixel: "a few seconds between polls is
plenty"). Each key's value is kept ``ttl`` seconds; callers arriving while it
is being fetched share that one fetch. Failures are not cached, except the
answers named in ``keep_errors`` (e.g. "Access denied" for a disabled project:
a stable answer, asked again by every ``/build projects`` otherwise).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


class ReadCache:
    """TTL cache with single-flight loading.

    Args:
        ttl: seconds a value stays fresh; 0 disables caching (every call loads).
        clock: monotonic seconds (injectable for tests).
        max_entries: entries kept before the oldest are dropped.
        keep_errors: exception types that are stable answers, cached like values
            (raised again to every caller while fresh); others are never cached.
    """

    def __init__(
        self,
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 1024,
        keep_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.ttl = ttl
        self._keep_errors = keep_errors
        self._clock = clock
        self._max = max_entries
        self._values: dict[str, tuple[float, Any]] = {}
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """The fresh value for ``key``, loading it (once for all waiters) when stale."""
        if self.ttl <= 0:
            return await load()
        now = self._clock()
        cached = self._values.get(key)
        if cached is not None and cached[0] > now:
            if isinstance(cached[1], _Kept):
                # The one exception object is raised to every caller while fresh: each
                # raise would add its frames to the traceback it already carries, and the
                # chain (every caller's frames and locals) would live as long as the entry.
                raise cached[1].error.with_traceback(None)
            return cached[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            if self._keep_errors and isinstance(exc, self._keep_errors):
                self._store(key, _Kept(exc))
            raise
        else:
            future.set_result(value)
            self._store(key, value)
            return value
        finally:
            del self._inflight[key]

    def clear(self) -> None:
        """Forget every cached value."""
        self._values.clear()

    def _store(self, key: str, value: Any) -> None:
        if len(self._values) >= self._max:
            for old in sorted(self._values, key=lambda k: self._values[k][0])[: self._max // 4]:
                del self._values[old]
        self._values[key] = (self._clock() + self.ttl, value)


class _Kept:
    """A cached stable failure (see ``keep_errors``)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
