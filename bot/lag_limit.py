"""A limit on concurrent post-ack work that follows the event loop's lag (AIMD).

Under a flood, what makes acks slow is not the number of listeners waiting on
I/O but the number *ready to run*: every event-loop iteration runs one step of
each, and a new request is read, parsed and acked only between them. A fixed
cap (256) is either too high when listeners burn CPU or too low when they wait
on a slow provider. :class:`LagLimit` measures what acks actually suffer — how
late a timer fires on the loop — and adjusts the cap: it is cut by a factor
when the lag is over target (multiplicative decrease) and raised by one when
the lag is well under it (additive increase), between a floor and a ceiling.

:class:`LagProbe` samples the lag only while post-ack work is running (a timer
re-armed from itself), so an idle process schedules nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

#: How often the probe samples the loop's lag while work is running, seconds.
PROBE_INTERVAL_S = 0.025


@dataclass
class LagLimit:
    """The cap on running post-ack work, from event-loop lag samples.

    Attributes:
        ceiling: the most ever allowed (bounds memory, whatever the lag).
        floor: the fewest (some work always progresses).
        target_lag: a sample above this (seconds) cuts the cap by ``decrease``.
        value: the current cap.
    """

    ceiling: int = 256
    floor: int = 8
    target_lag: float = 0.010
    decrease: float = 0.7
    value: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError("need 0 < floor <= ceiling")
        self.value = self.value or self.ceiling

    def observe(self, lag: float) -> int:
        """Take one lag sample (seconds); return the new cap."""
        if lag > self.target_lag:
            self.value = max(self.floor, int(self.value * self.decrease))
        elif lag < self.target_lag / 2:
            self.value = min(self.ceiling, self.value + 1)
        return self.value


class LagProbe:
    """Feeds :class:`LagLimit` with the lag of a timer re-armed while ``busy()`` is true."""

    def __init__(
        self, limit: LagLimit, busy: Callable[[], bool], interval: float = PROBE_INTERVAL_S
    ) -> None:
        self.limit = limit
        self.busy = busy
        self.interval = interval
        self._armed = False

    def start(self) -> None:
        """Arm the timer unless it is already running (call from the event loop)."""
        if not self._armed:
            self._armed = True
            loop = asyncio.get_running_loop()
            due = loop.time() + self.interval
            loop.call_at(due, self._tick, loop, due)

    def _tick(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        now = loop.time()
        self.limit.observe(now - due)
        if self.busy():
            due = now + self.interval
            loop.call_at(due, self._tick, loop, due)
        else:
            self._armed = False
