"""Taking turns across replicas: one replica per interval runs a periodic job.

Every replica runs the same loop; before working, each takes the job's turn, a rate slot in the
database (:meth:`storage.coordination.RateSlots.take_slot`, atomic across replicas) a little shorter
than the interval. One replica wins per interval, and if it stops, another one's next turn
comes up within an interval.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storage.coordination import RateSlots
from storage.db import Database

#: The slot "account" of StreamOps' own periodic jobs.
JOBS_ACCOUNT = "streamops"
#: The turn is a little shorter than the interval, so timing jitter never skips a turn.
TURN_FRACTION = 0.9


class Turns:
    """The shared turn of one periodic job.

    Args:
        db: the shared database.
        job: the job's name (one slot per job).
        interval: seconds between runs.
        clock: the current time, timezone-aware.
    """

    def __init__(
        self, db: Database, job: str, *, interval: float, clock: Callable[[], datetime]
    ) -> None:
        self.slots = RateSlots(db)
        self.job = job
        self.window = timedelta(seconds=interval * TURN_FRACTION)
        self.clock = clock

    async def mine(self) -> bool:
        """Take the turn: True for one caller (across replicas) per interval."""
        busy = await self.slots.take_slot(
            JOBS_ACCOUNT, self.job, now=self.clock(), window=self.window
        )
        return busy is None
