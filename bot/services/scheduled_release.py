"""A scheduled run is a release: the bridge from the schedule job to :meth:`Releases.release`.

The schedule job runs each due row as its requester through the same function
as the Distribute button, the slash command and the queue, so roles, freezes,
approvals, refusals of builds known to fail and the rate slot are one set of
rules. This module only translates that function's answers into what the
schedule records (:mod:`bot.services.schedules`).
"""

from __future__ import annotations

from bot.services.actor import Actor
from bot.services.builds import SlotBusy
from bot.services.oneshot import AlreadyUsed
from bot.services.releases import ApprovalRequested, QueuedNotice, Released, Releases
from bot.services.schedules import (
    AwaitingApproval,
    Failed,
    Ran,
    ReleaseRun,
    RunOutcome,
    SlotWait,
)
from storage.schedules import Schedule


def scheduled_release(releases: Releases) -> ReleaseRun:
    """The function the schedule job calls for each due run."""

    async def run(actor: Actor, schedule: Schedule) -> RunOutcome:
        result = await releases.release(
            actor,
            schedule.action,
            schedule.project_id,
            schedule.upload_id,
            origin="schedule",
            audit_params={
                "schedule_id": schedule.id,
                "requested_by": schedule.requested_by,
                "requested_at": schedule.created_at.isoformat(),
                "due_at": schedule.due_at.isoformat(),
            },
        )
        if isinstance(result, SlotBusy):
            return SlotWait(result.next_at)
        if isinstance(result, Released):
            return Ran(result.message)
        if isinstance(result, ApprovalRequested):
            # The project needs approvals: the request is posted in the scheduling
            # channel, and the release runs once it is approved (governance's flow).
            return AwaitingApproval(result.request.id, result.request.needed)
        if isinstance(result, QueuedNotice):  # an approved release met a busy slot
            return Ran(f"queued for {result.run_at:%H:%M} UTC (the distribute slot was in use)")
        if isinstance(result, AlreadyUsed):  # no button was given: cannot happen
            return Failed("the release was already claimed")
        return Failed(f"unexpected result {type(result).__name__}")

    return run
