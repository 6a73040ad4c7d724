"""Sends video deletes whose undo window has ended (``STREAMOPS_DELETE_UNDO_MINUTES``).

Each due delete is claimed by exactly one replica (:mod:`storage.pending_deletes`)
and run through :meth:`bot.services.media.MediaService.run_due_delete`, which
audits it and reports the outcome through the outbox. Rows live in the
database, so a restart loses none.
"""

from __future__ import annotations

from bot.jobs.loop import Sleep, repeat
from bot.services.media import MediaService

#: How often the job looks for due deletes.
POLL_SECONDS = 5.0


class PendingDeletes:
    """The undo window's background job.

    Args:
        media: the media use cases.
        poll_seconds: how long to wait between looks.
    """

    def __init__(self, media: MediaService, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.media = media
        self.poll_seconds = poll_seconds

    async def run_due(self) -> int:
        """Send every due delete once; how many ran."""
        ran = 0
        while await self.media.run_due_delete() is not None:
            ran += 1
        return ran

    async def run(self, sleep: Sleep | None = None) -> None:
        """Loop until cancelled."""
        if sleep is None:
            await repeat("pending-deletes", self.run_due, interval=self.poll_seconds)
        else:
            await repeat("pending-deletes", self.run_due, interval=self.poll_seconds, sleep=sleep)
