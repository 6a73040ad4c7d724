"""The scheduler that runs queued Streampixel distributions when the slot opens.

Queued work lives in the database, so it survives restarts and replicas share
it: each due row is claimed by exactly one replica. The result is posted to the
requester's channel and audited with source ``scheduler``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.audit import Outcome
from bot.deps import Deps
from bot.errors import UserFacingError
from bot.providers.streampixel import PROVIDER
from bot.services.actor import Actor, Target
from bot.services.builds import BuildService, QueuedRun
from handlers.blocks import builds as blocks
from handlers.requests import audit_trail
from storage.builds import BuildStore

log = logging.getLogger("streamops.build_queue")

#: How often the scheduler looks for due work when nobody wakes it.
POLL_SECONDS = 5.0


def build_service(deps: Deps) -> BuildService:
    """The build service on the configured Streampixel account.

    Raises:
        UserFacingError: Streampixel is not configured.
    """
    if deps.streampixel is None:
        raise UserFacingError(
            "Streampixel is not configured (set STREAMPIXEL_API_KEY and STREAMPIXEL_USER_ID)"
        )
    return BuildService(deps.streampixel, BuildStore(deps.db), lambda: deps.clock())


class QueueScheduler:
    """Runs due queued distributions; :meth:`run` is the background job.

    Args:
        deps: the app's dependencies (Streampixel client, database, Slack, audit).
        poll_seconds: how long to wait between looks when not woken.
    """

    def __init__(self, deps: Deps, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.deps = deps
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due work now (after queueing, or when a test moves the clock)."""
        self._wake.set()

    async def run(self) -> None:
        """Loop forever: run what is due, then sleep until woken or the poll interval."""
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("queued distributions could not be run this round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def run_due(self) -> list[QueuedRun]:
        """Run every due queued distribution once; report each finished one.

        Returns:
            What happened to each claimed item (rescheduled ones included).
        """
        if self.deps.streampixel is None:
            return []
        service = build_service(self.deps)
        runs: list[QueuedRun] = []
        while (run := await service.run_next_due()) is not None:
            runs.append(run)
            if run.outcome != "rescheduled":
                await self._report(run)
        return runs

    async def _report(self, run: QueuedRun) -> None:
        queued = run.queued
        at = self.deps.clock()
        outcome: Outcome = "ok" if run.outcome == "ok" else "failed"
        scheduler = Actor(
            user_id=queued.requested_by,
            source="scheduler",
            requested_at=queued.created_at,
            channel_id=queued.channel_id,
        )
        target = Target(
            PROVIDER,
            "upload",
            queued.upload_id,
            {"project_id": queued.project_id, "queued_id": queued.id},
        )
        await audit_trail(self.deps, scheduler).record(queued.action, outcome, target, run.message)
        verb = blocks.VERBS[queued.action]
        text = f"Queued {verb.lower()} of {queued.upload_id}: {run.outcome} ({run.message})"
        try:
            await self.deps.slack.chat_postMessage(
                channel=queued.channel_id,
                text=text,
                blocks=blocks.queued_result(
                    queued.action,
                    queued.project_id,
                    queued.upload_id,
                    requested_by=queued.requested_by,
                    outcome=outcome,
                    message=run.message,
                    at=at,
                ),
            )
        except Exception:
            log.exception("could not post the result of queued distribution %s", queued.id)
