"""The app's :class:`~bot.services.governance.Notices`: governance messages through the outbox.

A Slack outage delays these messages instead of losing them, and a background
job (the expiry and freeze-end job) never posts to Slack itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services.governance import Override
from storage.approvals import ApprovalRequest
from storage.freezes import Freeze
from storage.governance_notices import (
    APPROVAL_MESSAGE,
    FREEZE_ENDED,
    FREEZE_OVERRIDDEN,
    GovernanceOutbox,
    approval_from_payload,
    freeze_from_payload,
    freeze_payload,
)

#: What renderers above storage read back from outbox payloads.
__all__ = [
    "APPROVAL_MESSAGE",
    "FREEZE_ENDED",
    "FREEZE_OVERRIDDEN",
    "OutboxNotices",
    "approval_from_payload",
    "freeze_from_payload",
]


class OutboxNotices:
    """Writes each governance message as an outbox row (see :mod:`storage.governance_notices`).

    Args:
        outbox: the governance rows of the outbox.
        clock: the current time.
    """

    def __init__(self, outbox: GovernanceOutbox, clock: Callable[[], datetime]) -> None:
        self.outbox = outbox
        self.clock = clock

    async def approval_changed(self, request: ApprovalRequest) -> None:
        """Queue the request's message as it is when the row is written."""
        await self.outbox.approval_changed(request.id, self.clock())

    async def freeze_ended(self, freeze: Freeze) -> None:
        """Tell the channel that set the freeze that it is over."""
        await self.outbox.standalone(
            freeze.channel_id, freeze_payload(FREEZE_ENDED, freeze), self.clock()
        )

    async def override_used(self, override: Override) -> None:
        """Announce the override in the channel it was made from."""
        payload = freeze_payload(
            FREEZE_OVERRIDDEN,
            override.freeze,
            actor_id=override.actor_id,
            action=override.action,
            subject=override.subject,
            reason=override.reason,
        )
        await self.outbox.standalone(override.channel_id, payload, self.clock())
