"""The delivery worker: posts outbox rows to Slack, once each, in order per channel.

Per row (one notification for one channel):

* a standalone notification (``webhook.test``, a queued distribution's result)
  is one ``chat.postMessage``;
* the first notification about a build/video/session posts its message and
  keeps the ``ts``;
* every later one updates that message in place (``chat.update``) and then
  posts the step as a thread reply (``reply_broadcast`` for rejections and
  failures). ``progress`` on the row records the calls already made, so a
  retry never repeats one that succeeded.

Under a burst (see ``OutboxOptions.collapse`` and ``digest_backlog``):

* **collapse**: the later pending rows of the same build/video in the channel join
  the leased row's delivery (``Lease.group``, claimed in the lease's transaction, so
  two replicas never share one): its message is posted or edited once, to the
  latest state, and the steps go to its thread as one reply (each broadcast step —
  a rejection, a failure — still as a reply of its own);
* **digest**: when more rows wait in a channel than Slack's pace carries within a
  few seconds, the worker holding the channel's head posts the waiting build/video
  notifications as one digest message (at most one per ``digest_interval`` per
  channel, so the items' own messages keep going out in between) and marks them
  ``digest_ts``; their own messages follow, edited to the final state.

Posting is paced to one message per ``channel_interval`` per channel across
replicas (slots reserved in the database). A 429 stores the method's
``Retry-After`` deadline in the database, and no worker calls that method
before it passes. Other transient failures (5xx, connection errors) back off
exponentially with jitter, without limit; permanent Slack errors
(``channel_not_found``...) mark the row failed. A worker that dies leaves its
lease to expire, and the row is then taken up again.

Caveat (as for any outbox in front of an API without idempotency keys): if a
post succeeds but the process dies before the row records it, that one post is
repeated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.jobs.loop import repeat
from bot.metrics import Metrics
from bot.notifications.digest import DigestEntry, digest_entries
from bot.notifications.timeline import BROADCAST, Timeline
from bot.notifications.types import BUILD_EVENTS, LIVE_EVENTS, MEDIA_EVENTS, Notice
from storage import outbox_wakeup
from storage.coordination import Pacing
from storage.db import Database
from storage.governance_notices import IN_PLACE_EVENTS
from storage.outbox import Also, Lease, OutboxRow, OutboxStore, Waiting
from storage.outbox_wakeup import OutboxWakeup
from storage.release_notices import BUILD_REFRESH
from storage.timeline import Stamp, TimelineStore
from storage.webhooks import WebhookStore

log = logging.getLogger("streamops.outbox")

Sleep = Callable[[float], Awaitable[None]]

#: Slack errors that retrying cannot fix.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "cant_update_message",
        "invalid_arguments",
    }
)


#: With the wake-up, how much less often the loops other than the first poll.
IDLE_POLL_FACTOR = 8


@dataclass(frozen=True)
class OutboxOptions:
    """Timings of the worker (seconds); tests make them small.

    Attributes:
        poll_interval: pause when nothing is due.
        lease_seconds: how long a row stays leased to a worker that went quiet.
        backoff_base: first retry delay after a transient failure (doubles each attempt).
        backoff_cap: the longest retry delay.
        channel_interval: minimum spacing of posts to one channel, on average.
        channel_burst: posts to one channel that may go early, back to back, when
            the channel was quiet (Slack tolerates short bursts; long-run pace
            stays one per ``channel_interval``); 1 spaces every post strictly.
        concurrency: rows delivered at once (to different channels) by one worker.
        collapse: fold the pending rows of one build/video in a channel into one
            delivery (one edit of its message, one thread reply).
        digest_backlog: a channel with more pending rows than this gets a digest
            message of what waits (0: never).
        digest_interval: the least time between two digests to one channel.
        digest_rows: the most waiting rows one digest looks at.
    """

    poll_interval: float = 0.5
    lease_seconds: float = 60.0
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    channel_interval: float = 1.0
    channel_burst: int = 2
    concurrency: int = 4
    collapse: bool = True
    digest_backlog: int = 4
    digest_interval: float = 2.0
    digest_rows: int = 1000


class _Retry(Exception):
    def __init__(self, at: datetime | None, reason: str) -> None:
        super().__init__(reason)
        self.at = at
        self.reason = reason


class _Permanent(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _LeaseLost(Exception):
    pass


def delivery_client(slack: AsyncWebClient) -> AsyncWebClient:
    """A copy of ``slack`` without the SDK's retry handlers: the worker retries itself."""
    return AsyncWebClient(
        token=slack.token,
        base_url=slack.base_url,
        timeout=slack.timeout,
        retry_handlers=[],
    )


class NotificationRenderer(Protocol):
    """Turns notifications into Slack messages (handed in by the composition root)."""

    def standalone(self, notification: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """A notification that is a message of its own: ``(text, blocks)``."""
        ...

    def pipeline(
        self, timeline: Timeline, *, project_name: str | None = None, stamps: Sequence[Stamp] = ()
    ) -> tuple[str, list[dict[str, Any]]]:
        """The one message of a build, video or live session as it stands.

        ``project_name`` and ``stamps`` (a build's decisions) come from the release
        timeline at each render, so they survive every later webhook.
        """
        ...

    def step_reply(self, notification: Notice) -> tuple[str, bool]:
        """The thread reply of one step, and whether to broadcast it."""
        ...

    def steps_reply(self, notifications: Sequence[Notice]) -> str:
        """One thread reply for several steps that arrived together."""
        ...

    def digest(
        self, entries: Sequence[DigestEntry], channel: str
    ) -> tuple[str, list[dict[str, Any]], int]:
        """A digest of ``entries`` for ``channel``: ``(text, blocks, entries shown)``."""
        ...


class OutboxWorker:
    """Delivers outbox rows to Slack.

    Args:
        db: the database holding the outbox.
        slack: the Web API client (use :func:`delivery_client`: no built-in retries).
        renderer: turns notifications into messages.
        clock: the current time, timezone-aware.
        sleep: how to wait (injected by tests).
        jitter: a number in [0, 1) scaling each backoff between 50 % and 100 %.
        options: timings.
        owner: this worker's lease name (unique per process by default).
    """

    def __init__(
        self,
        db: Database,
        slack: AsyncWebClient,
        renderer: NotificationRenderer,
        *,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        options: OutboxOptions | None = None,
        owner: str | None = None,
        metrics: Metrics | None = None,
        wakeup: OutboxWakeup | None = None,
    ) -> None:
        self.store = OutboxStore(db)
        # Woken when outbox rows commit (storage.outbox_wakeup); tests that inject
        # their own sleep keep the plain poll.
        self.wakeup = wakeup or (outbox_wakeup.for_database(db) if sleep is asyncio.sleep else None)
        self.db = db
        self.pacing = Pacing(db)
        self.webhooks = WebhookStore(db)
        self.releases = TimelineStore(db)
        self.slack = slack
        self.renderer = renderer
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.options = options or OutboxOptions()
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self.metrics = metrics

    async def run(self) -> None:
        """Deliver forever (until cancelled), ``concurrency`` rows at a time."""
        loops = [self._loop(polls=i == 0) for i in range(self.options.concurrency)]
        if self.wakeup is not None:
            self.wakeup.bind()
            loops.append(self.wakeup.listen(self.db))  # PostgreSQL: NOTIFY from any replica
        await asyncio.gather(*loops)

    async def _loop(self, *, polls: bool) -> None:
        # Woken early when outbox rows commit (storage.outbox_wakeup), else polls. With the
        # wake-up, one loop polls at poll_interval (a retry come due, a row from another
        # process without NOTIFY) and wakes the others when it finds work; the others
        # poll IDLE_POLL_FACTOR times less often: at idle, 4 loops polling twice a
        # second each were most of the serve process's CPU (a lease transaction each).
        wakeup = self.wakeup
        if wakeup is None:
            await repeat(
                "outbox",
                self.run_once,
                interval=self.options.poll_interval,
                sleep=self.sleep,
                again_at_once=bool,
            )
            return

        def found(leased: object) -> bool:
            if leased and polls:
                wakeup.notify()  # more may be due: the other loops join in
            return bool(leased)

        await repeat(
            "outbox",
            self.run_once,
            interval=self.options.poll_interval * (1 if polls else IDLE_POLL_FACTOR),
            sleep=wakeup.wait,
            again_at_once=found,
        )

    async def run_once(self) -> bool:
        """Lease one due row and try to deliver it; False when nothing was due."""
        options = self.options
        lease = await self.store.lease(
            self.owner,
            self.clock(),
            timedelta(seconds=options.lease_seconds),
            collapse=_collapsible if options.collapse else None,
            backlog_limit=options.digest_backlog + 1 if options.digest_backlog else 0,
        )
        if lease is None:
            return False
        if self.wakeup is not None:
            self.wakeup.pass_on()  # another worker looks for the next due row meanwhile
        row = lease.row
        try:
            busy = options.digest_backlog and lease.backlog > options.digest_backlog
            if busy and await self._digest(lease):
                return True
            result_ts, also = await self._deliver(lease)
        except _LeaseLost:
            log.warning("outbox row %s: lease lost, another worker has it", row.id)
        except _Permanent as exc:
            log.warning("outbox row %s to %s failed for good: %s", row.id, row.channel, exc.reason)
            await self.store.fail(lease, self.clock(), exc.reason)
        except _Retry as exc:
            at = exc.at or self.clock() + timedelta(seconds=self._backoff(row.attempts))
            log.info("outbox row %s to %s: retry at %s (%s)", row.id, row.channel, at, exc.reason)
            await self.store.retry_later(lease, at, exc.reason)
        else:
            finished = self.clock()
            if await self.store.complete(lease, finished, result_ts, also=also):
                for done in lease.rows():
                    self._observe_delay(done, finished)
        return True

    def _observe_delay(self, row: OutboxRow, finished: datetime) -> None:
        """Record webhook received → Slack accepted for a webhook's notification."""
        if self.metrics is None or row.delivery_id is None:
            return
        try:
            provider = str(json.loads(row.payload).get("provider") or "unknown")
        except ValueError:
            provider = "unknown"
        delay = (finished - row.created_at).total_seconds()
        self.metrics.notification_delay.labels(provider).observe(max(delay, 0.0))

    def _count_error(self, method: str, error: str) -> None:
        if self.metrics is not None:
            self.metrics.slack_errors.labels(method, error).inc()

    def _backoff(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 30)
        delay = min(self.options.backoff_cap, self.options.backoff_base * 2.0**exponent)
        return delay * (0.5 + 0.5 * self.jitter())

    # -- one row -------------------------------------------------------------

    async def _deliver(self, lease: Lease) -> tuple[str | None, Also | None]:
        """Make the row's Slack calls; returns the last ts and what completion also saves."""
        row = lease.row
        payload: dict[str, Any] = json.loads(row.payload)
        if not row.subject_key:
            text, blocks = self.renderer.standalone(payload)
            return await self._post(row.channel, text, blocks=blocks), None
        if payload.get("event") in IN_PLACE_EVENTS:
            return await self._in_place(row.channel, row.subject_key, payload), None
        if payload.get("event") == BUILD_REFRESH:
            return await self._refresh(row.channel, row.subject_key), None
        if lease.group:
            return await self._deliver_group(lease)
        notification = Notice.from_payload(payload)
        message = await self.webhooks.message(row.channel, row.subject_key)
        timeline = Timeline.from_json(message.state) if message else Timeline.start(notification)
        timeline.apply(notification)
        project_name, stamps = await self._decisions(timeline)
        text, blocks = self.renderer.pipeline(timeline, project_name=project_name, stamps=stamps)
        if message is None:
            ts = await self._post(row.channel, text, blocks=blocks)
            return ts, self._saving(row, ts, timeline)  # saved with the row's completion
        parent_ts = message.ts
        if row.progress < 1:
            parent_ts = await self._update_parent(row.channel, parent_ts, text, blocks)
            await self._advance(lease, 1, 2, also=self._saving(row, parent_ts, timeline))
        reply, broadcast = self.renderer.step_reply(notification)
        ts = await self._post(row.channel, reply, thread_ts=parent_ts, reply_broadcast=broadcast)
        return ts, None

    def _saving(self, row: OutboxRow, ts: str, timeline: Timeline) -> Also:
        """Saving the message of ``row``'s subject, to run in the transaction that records it."""
        state, now = timeline.to_json(), self.clock()

        async def save(session: AsyncSession) -> None:
            await WebhookStore.save_message_in(
                session, row.channel, row.subject_key, ts, state, now
            )

        return save

    async def _deliver_group(self, lease: Lease) -> tuple[str | None, Also | None]:
        """One build's/video's waiting rows at once: one post or edit, then its thread.

        The calls, in order (``progress`` counts those done, so a retry repeats none):
        the message posted (first time in the channel) or edited to the latest state;
        one thread reply listing the plain steps; one reply per broadcast step. The
        step the message was first posted with is not repeated in the thread.
        """
        row = lease.row
        notices = [Notice.from_payload(json.loads(r.payload)) for r in lease.rows()]
        message = await self.webhooks.message(row.channel, row.subject_key)
        timeline = Timeline.from_json(message.state) if message else Timeline.start(notices[0])
        for notice in notices:
            timeline.apply(notice)
        project_name, stamps = await self._decisions(timeline)
        text, blocks = self.renderer.pipeline(timeline, project_name=project_name, stamps=stamps)
        said = _thread_steps(timeline, notices)
        plain = [n for n in said if n.event not in BROADCAST]
        broadcast = [n for n in said if n.event in BROADCAST]
        calls = 1 + bool(plain) + len(broadcast)
        last_ts: str | None = message.ts if message else None
        if row.progress < 1:
            if message is None:
                last_ts = await self._post(row.channel, text, blocks=blocks)
            else:
                last_ts = await self._update_parent(row.channel, message.ts, text, blocks)
            save = self._saving(row, last_ts, timeline)
            if calls == 1:
                return last_ts, save
            await self._advance(lease, 1, calls, also=save)
        parent_ts = last_ts
        if parent_ts is None:
            raise _Retry(None, "the message of this build is not recorded")
        step = 1
        if plain:
            step += 1
            if row.progress < step:
                reply = self.renderer.steps_reply(plain)
                last_ts = await self._post(row.channel, reply, thread_ts=parent_ts)
                await self._advance(lease, step, calls)
        for notice in broadcast:
            step += 1
            if row.progress < step:
                reply, _ = self.renderer.step_reply(notice)
                last_ts = await self._post(
                    row.channel, reply, thread_ts=parent_ts, reply_broadcast=True
                )
                await self._advance(lease, step, calls)
        return last_ts, None

    async def _advance(
        self, lease: Lease, progress: int, calls: int, *, also: Also | None = None
    ) -> None:
        """Record ``progress`` calls done (the last one is recorded by completion)."""
        if progress < calls and not await self.store.advance(lease, progress, also=also):
            raise _LeaseLost

    async def _digest(self, lease: Lease) -> bool:
        """Post one digest of what waits in the lease's channel; False when none is due.

        Only the worker holding the channel's head gets here, so two replicas never
        digest the same rows. The head is given back afterwards (its own delivery is
        next); a digest that Slack refuses for good is skipped, not retried.
        """
        channel = lease.row.channel
        if lease.digest_gate is not None and lease.digest_gate > self.clock():
            return False  # (read in the lease's transaction)
        rows = [
            (r, Notice.from_payload(json.loads(r.payload)))
            for r in await self.store.undigested(channel, self.options.digest_rows)
            if _collapsible(r)
        ]
        keys = list(dict.fromkeys(r.subject_key for r, _ in rows))
        if not keys or keys == [lease.row.subject_key]:
            return False  # only the head's own steps wait: its delivery, next, shows them
        shown_ts = await self.webhooks.message_ts(channel, keys)
        entries = digest_entries(((r.subject_key, n) for r, n in rows), shown_ts)
        text, blocks, shown = self.renderer.digest(entries, channel)
        included = {e.key for e in entries[:shown]}
        try:
            ts = await self._post(channel, text, blocks=blocks)
        except _Permanent as exc:
            log.warning("digest to %s refused: %s", channel, exc.reason)
            return False
        marked = [r for r, _ in rows if r.subject_key in included]
        next_digest = self.clock() + timedelta(seconds=self.options.digest_interval)
        if not await self.store.mark_digested(lease, marked, ts, next_digest):
            log.warning("outbox row %s: lease lost during a digest", lease.row.id)
        return True

    async def _refresh(self, channel: str, subject_key: str) -> str | None:
        """Re-render a build's message after a decision (its stamps are read fresh)."""
        message = await self.webhooks.message(channel, subject_key)
        if message is None:
            return None  # nothing shown in this channel yet: the first webhook renders it
        timeline = Timeline.from_json(message.state)
        project_name, stamps = await self._decisions(timeline)
        text, blocks = self.renderer.pipeline(timeline, project_name=project_name, stamps=stamps)
        return await self._update_parent(channel, message.ts, text, blocks)

    async def _decisions(self, timeline: Timeline) -> tuple[str | None, list[Stamp]]:
        """A build's project name and decision stamps, read fresh for every render."""
        if timeline.provider != "streampixel" or not timeline.project or not timeline.subject:
            return None, []
        return await self.releases.decisions(timeline.project, timeline.subject)

    async def _in_place(self, channel: str, subject_key: str, notification: dict[str, Any]) -> str:
        """A message kept up to date (an approval request): posted once, then updated in place."""
        text, blocks = self.renderer.standalone(notification)
        message = await self.webhooks.message(channel, subject_key)
        if message is None:
            ts = await self._post(channel, text, blocks=blocks)
        else:
            ts = await self._update_parent(channel, message.ts, text, blocks)
        await self.webhooks.save_message(channel, subject_key, ts, "{}", self.clock())
        return ts

    async def _update_parent(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> str:
        """Update the message in place; post it again if it was deleted. Returns its ts."""
        try:
            await self._call(
                "chat.update",
                lambda: self.slack.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
            )
        except _Permanent as exc:
            if exc.reason != "message_not_found":
                raise
            return await self._post(channel, text, blocks=blocks)
        return ts

    async def _post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> str:
        slot, deferred = await self.pacing.reserve_unless_deferred(
            f"channel:{channel}",
            "method:chat.postMessage",
            self.clock(),
            timedelta(seconds=self.options.channel_interval),
            burst=self.options.channel_burst,
        )
        if slot is None:
            assert deferred is not None
            raise _Retry(deferred, f"chat.postMessage is rate-limited until {deferred.isoformat()}")
        wait = (slot - self.clock()).total_seconds()
        if wait > 0:
            await self.sleep(wait)
        kwargs: dict[str, Any] = {"channel": channel, "text": text}
        if blocks is not None:
            kwargs["blocks"] = blocks
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
            kwargs["reply_broadcast"] = reply_broadcast
        response = await self._call(
            "chat.postMessage", lambda: self.slack.chat_postMessage(**kwargs)
        )
        return str(response.get("ts") or "")

    async def _wait_for_method(self, method: str) -> None:
        until = await self.pacing.deferred_until(f"method:{method}")
        if until is not None and until > self.clock():
            raise _Retry(until, f"{method} is rate-limited until {until.isoformat()}")

    async def _call(self, method: str, call: Callable[[], Awaitable[Any]]) -> Mapping[str, Any]:
        """Make one Web API call; turn failures into retry or give-up decisions.

        ``call`` makes the request only once the method's Retry-After has passed
        (no coroutine is created that a refusal or a cancellation would leave unawaited).
        """
        if method != "chat.postMessage":
            await self._wait_for_method(method)
        try:
            response = await call()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or f"http_{status}")
            self._count_error(method, error)
            if status == 429:
                until = self.clock() + timedelta(seconds=_retry_after(exc.response.headers))
                await self.pacing.defer(f"method:{method}", until)
                raise _Retry(until, f"{method}: ratelimited") from None
            if error in PERMANENT_ERRORS or error == "message_not_found":
                raise _Permanent(error) from None
            raise _Retry(None, f"{method}: {error}") from None
        except (TimeoutError, OSError) as exc:
            self._count_error(
                method, "timeout" if isinstance(exc, TimeoutError) else "connection_error"
            )
            raise _Retry(None, f"{method}: {type(exc).__name__}") from None
        except Exception as exc:  # aiohttp.ClientError and friends: transient
            if type(exc).__module__.startswith("aiohttp"):
                self._count_error(method, "connection_error")
                raise _Retry(None, f"{method}: {type(exc).__name__}") from None
            raise
        data: Mapping[str, Any] = response.data if hasattr(response, "data") else response
        return data


#: Events of a build/video/live pipeline: rows that may be folded together and digested.
_PIPELINE_EVENTS = frozenset((*BUILD_EVENTS, *MEDIA_EVENTS, *LIVE_EVENTS))


def _collapsible(row: OutboxRow | Waiting) -> bool:
    """A step of a build/video/live pipeline (not an approval message or a refresh)."""
    if not row.subject_key:
        return False
    try:
        event = json.loads(row.payload).get("event")
    except ValueError:
        return False
    return event in _PIPELINE_EVENTS


def _thread_steps(timeline: Timeline, notices: Sequence[Notice]) -> list[Notice]:
    """The steps a group says in the thread: each once, minus the one the message began with."""
    first = timeline.steps[0] if timeline.steps else None
    said: list[Notice] = []
    seen: set[tuple[str, str | None]] = set()
    for notice in notices:
        step = (notice.event, notice.timestamp)
        if step in seen:
            continue
        seen.add(step)
        if notice is notices[0] and first is not None and step == (first.event, first.timestamp):
            continue  # the message itself was posted with this step
        said.append(notice)
    return said


def _retry_after(headers: Mapping[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0
