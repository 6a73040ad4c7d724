"""Group commit: many small writes from concurrent requests in one transaction.

On SQLite every transaction costs several round trips to the driver's thread
(BEGIN IMMEDIATE, statements, COMMIT) and writers take turns, so a webhook
burst is bounded by transactions per second, not by work. A
:class:`GroupCommitter` queues each caller's write; one task runs whatever has
queued in a single transaction and hands every caller its own result once the
transaction has committed. Nothing is acknowledged before it is durable.

If a batch fails, its writes are retried one transaction each, so one bad
write fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database

T = TypeVar("T")
R = TypeVar("R")

ApplyBatch = Callable[[AsyncSession, list[T]], Awaitable[list[R]]]


class GroupCommitter(Generic[T, R]):
    """Runs ``apply(session, items)`` for queued items, a batch per transaction.

    Args:
        db: the database.
        apply: writes a batch of items inside the given session and returns one
            result per item, in order (it may use multi-row statements).
        max_batch: the most items one transaction takes.
    """

    def __init__(self, db: Database, apply: ApplyBatch[T, R], *, max_batch: int = 100) -> None:
        self._db = db
        self._apply = apply
        self._max = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item``; returns once its transaction has committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        # Yield once so requests arriving in the same loop iteration join the batch.
        await asyncio.sleep(0)
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            await self._write(batch)

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            async with self._db.session() as session:
                results = await self._apply(session, [item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                settle(batch[0][1], exc=exc)
                return
            for one in batch:  # find the bad write: one transaction each
                await self._write([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            settle(future, result=result)


def settle(
    future: asyncio.Future[R], *, result: R | None = None, exc: BaseException | None = None
) -> None:
    """Give a batched caller its result or error, unless it went away (its write stands)."""
    if future.done():  # the caller went away (cancelled); the write stands
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]  # R, set only on success
