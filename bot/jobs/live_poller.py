"""StreamAPI has no webhooks: poll the live list and announce went-live / ended once each.

StreamAPI lists a session up to 60 s after it starts (providers.md §3), so
the default interval (``STREAMOPS_STREAMAPI_POLL_SECONDS``, 60 s) loses
nothing. A failed poll changes nothing: a session is only called ended after a
*successful* list that no longer has it. State lives in the database
(:mod:`storage.live_sessions`); the notifications go through the outbox.
On several replicas every one runs the poller, and they take turns
(:meth:`LivePoller.my_turn`): StreamAPI is called once per interval in all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.errors import ProviderError
from bot.jobs.loop import repeat
from bot.providers.streamapi import StreamAPIClient
from bot.providers.streamapi_models import LiveSession
from storage.coordination import RateSlots
from storage.db import Database
from storage.live_sessions import LiveNow, LiveSessionStore

log = logging.getLogger("streamops.live_poller")

#: The rate slot that makes the replicas take turns polling.
POLL_TURN_ACCOUNT = "streamapi"
POLL_TURN_ACTION = "live_poll"
#: The turn is a little shorter than the interval, so a replica's own timing jitter
#: never makes it skip its turn.
TURN_FRACTION = 0.9


def session_key(live: LiveSession) -> str:
    """One live session: the host plus its start time (a host may go live again later)."""
    if live.start_time is None:
        return live.public_hostid
    return f"{live.public_hostid}@{int(live.start_time.timestamp())}"


class LivePoller:
    """Polls ``streamapi.live_sessions()`` and queues start/end notifications.

    Args:
        db: the database (poller state and outbox).
        streamapi: the StreamAPI client.
        clock: the current time, timezone-aware.
        interval: seconds between polls.
        default_channel: where notifications go when no subscription matches.
        sleep: how to wait (injected by tests).
    """

    def __init__(
        self,
        db: Database,
        streamapi: StreamAPIClient,
        *,
        clock: Callable[[], datetime],
        interval: float,
        default_channel: str | None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = LiveSessionStore(db)
        self.slots = RateSlots(db)
        self.streamapi = streamapi
        self.clock = clock
        self.interval = interval
        self.default_channel = default_channel
        self.sleep = sleep

    async def poll_once(self) -> list[tuple[str, str]]:
        """Poll once; the ``(event, session)`` notifications queued (none when the poll failed)."""
        try:
            sessions = await self.streamapi.live_sessions()
        except ProviderError as exc:
            log.warning("StreamAPI live list failed, state unchanged: %s", exc.message)
            return []
        live = [
            LiveNow(session_key(s), s.username or s.public_hostid) for s in sessions if s.is_live
        ]
        return await self.store.sync(live, self.clock(), default_channel=self.default_channel)

    async def my_turn(self) -> bool:
        """Take the shared polling turn: True for one replica per ``interval``.

        Every replica runs the poller; the turn (a rate slot in the database,
        ``TURN_FRACTION`` of the interval wide) lets only one of them call
        StreamAPI per interval, so N replicas neither multiply the API calls nor
        sync overlapping, out-of-date live lists. A replica that stops polling
        is replaced within one interval by the next one whose turn comes up.
        """
        busy = await self.slots.take_slot(
            POLL_TURN_ACCOUNT,
            POLL_TURN_ACTION,
            now=self.clock(),
            window=timedelta(seconds=self.interval * TURN_FRACTION),
        )
        return busy is None

    async def run(self) -> None:
        """Poll every ``interval`` seconds (when it is this replica's turn) until cancelled."""

        async def step() -> None:
            if await self.my_turn():
                await self.poll_once()

        await repeat("live-poller", step, interval=self.interval, sleep=self.sleep)
