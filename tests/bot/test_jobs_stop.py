"""Background jobs stop at shutdown even when something below them swallows the cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from bot.jobs import loop
from bot.jobs.loop import Job, repeat, run_jobs


async def test_a_step_that_swallows_the_cancellation_still_ends_the_job() -> None:
    """A library catching CancelledError inside a step cannot keep the job looping."""
    entered = asyncio.Event()
    rounds = 0

    async def swallowing_step() -> None:
        nonlocal rounds
        rounds += 1
        entered.set()
        with contextlib.suppress(asyncio.CancelledError):  # what a misbehaving library does
            await asyncio.sleep(10)

    job = asyncio.create_task(repeat("swallow", swallowing_step, interval=0.01))
    await entered.wait()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(job, 5)
    assert rounds == 1


async def test_shutdown_is_bounded_by_a_job_that_will_not_stop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """run_jobs waits STOP_SECONDS for its jobs, then reports the stubborn one and returns."""
    monkeypatch.setattr(loop, "STOP_SECONDS", 0.2)
    started = asyncio.Event()
    released = False

    async def stubborn() -> None:
        started.set()
        while not released:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)

    async def polite() -> None:
        await asyncio.sleep(10)

    caplog.set_level(logging.ERROR, logger="streamops.jobs")
    async with run_jobs([Job("stubborn", stubborn), Job("polite", polite)]) as tasks:
        await started.wait()
    assert tasks[1].cancelled()
    assert not tasks[0].done()
    assert any("job:stubborn did not stop" in r.getMessage() for r in caplog.records)
    released = True
    tasks[0].cancel()
    await tasks[0]
