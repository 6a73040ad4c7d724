"""One small loop helper for every background job: repeat a step, survive errors, stop cleanly.

A :class:`Job` is a name and a coroutine factory; the app's lifespan starts
every job of the container as a task and, at shutdown, cancels them and waits
for them (:func:`run_jobs`). :func:`repeat` is the loop each job runs: do one
step, log (never raise) an ordinary failure, then sleep until the interval
passes or someone :meth:`~asyncio.Event.set` the wake-up event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("streamops.jobs")

Sleep = Callable[[float], Awaitable[object]]

#: How long shutdown waits for the cancelled jobs (each finishes its current round).
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Job:
    """A long-running background job.

    Attributes:
        name: for logs (``"outbox"``, ``"queue"``...).
        run: starts the job; runs until cancelled.
    """

    name: str
    run: Callable[[], Coroutine[Any, Any, None]]


async def repeat(
    name: str,
    step: Callable[[], Awaitable[object]],
    *,
    interval: float,
    wake: asyncio.Event | None = None,
    sleep: Sleep = asyncio.sleep,
    again_at_once: Callable[[object], bool] = lambda _: False,
) -> None:
    """Run ``step`` forever, ``interval`` seconds apart, until cancelled.

    Args:
        name: the job's name, for the log.
        step: one round of work; an exception is logged and the loop goes on.
        interval: the pause between rounds.
        wake: when set, ends the pause early (and is cleared).
        sleep: how to pause when there is no ``wake`` (injected by tests).
        again_at_once: given the step's result, True to skip the pause (more work waits).
    """
    while True:
        result: object = None
        try:
            result = await step()
        except asyncio.CancelledError:
            raise
        except Exception:  # a transient failure must not end the job
            log.exception("background job %s: a round failed", name)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # The step returned although the job was cancelled: something below swallowed the
            # CancelledError. Stop anyway, or shutdown would wait on this job for ever.
            raise asyncio.CancelledError
        if again_at_once(result):
            continue
        if wake is None:
            await sleep(interval)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)
        wake.clear()


@contextlib.asynccontextmanager
async def run_jobs(jobs: Sequence[Job]) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run ``jobs`` as tasks for the ``async with`` block; cancel and await them after it."""
    tasks = [asyncio.create_task(job.run(), name=f"job:{job.name}") for job in jobs]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_SECONDS)
            for task in pending:  # shutdown is bounded: report a job that would not stop
                log.error(
                    "background job %s did not stop within %s s", task.get_name(), STOP_SECONDS
                )
        for job, task in zip(jobs, tasks, strict=True):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("background job %s ended with %r", job.name, task.exception())
