"""Request ids for StreamAPI: strictly increasing per API key.

StreamAPI refuses a ``rid`` that is not greater than the last one it accepted
for the key (code 203), so every request needs a fresh, larger id. The docs
suggest the time in milliseconds; :class:`ClockRidSource` uses that but never
repeats or goes back, even when the clock does or two calls share a millisecond.
It only remembers ids inside one process; ``storage.streamapi_rid.DatabaseRidSource``
keeps the mark in the database, across restarts and replicas, and on PostgreSQL
also lets only one replica at a time send per key (:meth:`RidSource.turn`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

# The digest and the clock rule are shared with the database source (storage owns them).
from storage.streamapi_rid import Clock, key_digest, now_ms

__all__ = ["Clock", "ClockRidSource", "RidSource", "key_digest", "now_ms"]


class RidSource(Protocol):
    """Hands out request ids that strictly increase per API key, one send turn at a time."""

    def turn(self, api_key: str) -> AbstractAsyncContextManager[int]:
        """Hold ``api_key``'s turn to send; yields an id greater than every id given before.

        The caller signs and sends exactly one request inside the turn. A source shared
        by several processes makes the others wait meanwhile, so ids reach the
        provider in order; raises ``TimeoutError`` if the turn does not come in time.
        """
        ...


class ClockRidSource:
    """In-process ids: ``max(now_ms, last + 1)`` under a lock.

    Args:
        clock: seconds since the epoch (injectable for tests).
    """

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._last: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ClockRidSource(keys={len(self._last)})"

    @contextlib.asynccontextmanager
    async def turn(self, api_key: str) -> AsyncIterator[int]:
        """A fresh id; the turn is the caller's own (this source knows one process only)."""
        yield await self.next_rid(api_key)

    async def next_rid(self, api_key: str) -> int:
        """A request id greater than every id handed out before for ``api_key``."""
        digest = key_digest(api_key)
        async with self._lock:
            rid = max(now_ms(self._clock), self._last.get(digest, 0) + 1)
            self._last[digest] = rid
            return rid
