"""The governance job: expires overdue approval requests and announces ended freezes.

Both are written so that several replicas may run the job at once: each
request expires once and each freeze is announced once (conditional updates in
storage). Every message goes through the outbox (see
:class:`bot.services.governance_notices.OutboxNotices`).
"""

from __future__ import annotations

from bot.jobs.loop import repeat
from bot.services.governance import Governance
from storage.approvals import ApprovalRequest

#: How often the job looks for overdue requests and ended freezes.
POLL_SECONDS = 30.0


class GovernanceJob:
    """The background job (see the module docstring).

    Args:
        governance: the rules.
        poll_seconds: the pause between rounds.
    """

    def __init__(self, governance: Governance, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.governance = governance
        self.poll_seconds = poll_seconds

    async def run_once(self) -> list[ApprovalRequest]:
        """One round: expire overdue requests, announce ended freezes; the requests expired."""
        expired = await self.governance.expire_due()
        await self.governance.end_due_freezes()
        return expired

    async def run(self) -> None:
        """Loop until cancelled."""
        await repeat("governance", self.run_once, interval=self.poll_seconds)
