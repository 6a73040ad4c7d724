"""A burst into one channel: collapsed edits, one digest, every event accounted for.

The worker runs under an injected clock (its pacing sleeps move the clock), against
the strict fake Slack (Block Kit limits enforced) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs.outbox_worker import OutboxOptions, OutboxWorker
from bot.notifications.types import Notice
from bot.sandbox.slack import FakeSlack
from handlers.blocks.notifications import NOTIFICATIONS
from storage.outbox import OutboxStore
from storage.webhooks import Intake, WebhookStore

T0 = datetime(2026, 4, 21, 12, 0, tzinfo=UTC)
BUILDS = ("upA", "upB", "upC")
LATER_STEPS = (
    "build.downloading",
    "build.extracting",
    "build.saving",
    "build.distributing",
    "build.approved",
)


class Clock:
    """A clock that only moves when the worker sleeps (its pacing)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


async def _queue(db, event: str, subject: str, key: str, **fields: str) -> None:
    notification = Notice(
        provider="streampixel",
        event=event,
        subject=subject,
        project="P1",
        timestamp=key,
        **fields,  # type: ignore[arg-type]
    )
    await WebhookStore(db).record(
        Intake(
            provider="streampixel",
            event=event,
            subject=subject,
            project="P1",
            dedupe_key=f"{subject}:{key}",
            raw_payload="{}",
            notification=notification,
            subject_key=f"streampixel:{subject}",
        ),
        T0,
        default_channel="C1",
    )


def _worker(
    db, client: AsyncWebClient, clock: Clock, owner: str, **options: object
) -> OutboxWorker:
    return OutboxWorker(
        db,
        client,
        NOTIFICATIONS,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
        options=OutboxOptions(**options),  # type: ignore[arg-type]
        owner=owner,
    )


async def _drain(*workers: OutboxWorker) -> None:
    """Run every worker until none finds anything to do."""

    async def one(worker: OutboxWorker) -> None:
        idle = 0
        while idle < 3:  # the others may still hold a lease
            idle = 0 if await worker.run_once() else idle + 1
            await asyncio.sleep(0)

    await asyncio.gather(*(one(w) for w in workers))


async def _burst(db) -> None:
    """Each build's later steps, interleaved build by build: 15 webhooks."""
    for step, event in enumerate(LATER_STEPS, start=1):
        for build in BUILDS:
            await _queue(db, event, build, f"t{step}")


def _digests(fake: FakeSlack) -> list[dict]:
    return [p for p in fake.calls_to("chat.postMessage") if p["text"].startswith("Busy channel")]


def _replies(fake: FakeSlack, ts: str) -> list[dict]:
    return [p for p in fake.calls_to("chat.postMessage") if p.get("thread_ts") == ts]


async def _messages(db) -> dict[str, str]:
    keys = [f"streampixel:{b}" for b in BUILDS]
    return await WebhookStore(db).message_ts("C1", keys)


async def _assert_burst_delivered(db, fake: FakeSlack, posts_before: int) -> None:
    """One digest, one final edit per build message, one thread reply per build."""
    [digest] = _digests(fake)
    shown = json.dumps(digest["blocks"])
    ts = await _messages(db)
    for build in BUILDS:
        assert build in shown
        assert ts[f"streampixel:{build}"].replace(".", "") in shown  # a link to its message
    assert shown.count("(5 updates)") == 3
    assert "Approved" in shown
    kept = {m.ts: m for m in fake.channel_messages("C1")}
    for build in BUILDS:  # as the channel shows it now: edited once, to the final state
        message = kept[ts[f"streampixel:{build}"]]
        assert message.edits == 1 and "Approved" in message.text
    updates = fake.calls_to("chat.update")
    assert sorted(u["ts"] for u in updates) == sorted(ts.values())  # one edit per message
    for update in updates:
        assert "Approved" in update["text"]
    for build in BUILDS:
        [reply] = _replies(fake, ts[f"streampixel:{build}"])
        lines = reply["text"].splitlines()
        assert len(lines) == 5  # every step of the burst, once, in order
        assert "Downloading" in lines[0]
        assert "Approved" in lines[-1]
    posts = fake.calls_to("chat.postMessage")
    assert len(posts) == posts_before + 1 + len(BUILDS)  # the digest + one reply each
    rows = await OutboxStore(db).rows(channel="C1")
    assert {r.status for r in rows} == {"sent"}
    assert len(rows) == len(BUILDS) * (1 + len(LATER_STEPS))
    burst = [r for r in rows if r.progress == 0 and r.collapsed_into is not None]
    assert len(burst) == len(BUILDS) * (len(LATER_STEPS) - 1)  # folded into each build's first
    assert all(r.digest_ts == digest_ts(fake) for r in rows[len(BUILDS) :])
    deliveries = await WebhookStore(db).recent(limit=100)
    assert {d.outcome for d in deliveries} == {"posted"}


def digest_ts(fake: FakeSlack) -> str:
    """The ts the fake Slack gave the digest."""
    [message] = [m for m in fake.channel_messages("C1") if m.text.startswith("Busy")]
    return message.ts


async def test_a_burst_collapses_into_one_digest_and_one_edit_per_build(database, slack) -> None:
    """15 webhooks for 3 posted builds: one digest, then each message edited once, one reply."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, "w1")
    for build in BUILDS:
        await _queue(database, "build.uploaded", build, "t0")
    await _drain(worker)
    posted = len(fake.calls_to("chat.postMessage"))
    assert posted == len(BUILDS)
    await _burst(database)
    await _drain(worker)
    await _assert_burst_delivered(database, fake, posted)


async def test_two_replicas_post_nothing_twice(database, slack) -> None:
    """The same burst with two workers (two replicas' leases): still one digest, one edit each."""
    fake, client = slack
    clock = Clock()
    first, second = (_worker(database, client, clock, f"replica-{i}") for i in (1, 2))
    for build in BUILDS:
        await _queue(database, "build.uploaded", build, "t0")
    await _drain(first, second)
    posted = len(fake.calls_to("chat.postMessage"))
    assert posted == len(BUILDS)
    await _burst(database)
    await _drain(first, second)
    await _assert_burst_delivered(database, fake, posted)


async def test_without_collapse_every_step_is_its_own_edit_and_reply(database, slack) -> None:
    """The setting's off position: 15 webhooks → 15 edits and 15 replies, no digest."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, "w1", collapse=False, digest_backlog=0)
    for build in BUILDS:
        await _queue(database, "build.uploaded", build, "t0")
    await _drain(worker)
    await _burst(database)
    await _drain(worker)
    assert not _digests(fake)
    assert len(fake.calls_to("chat.update")) == 15
    assert len(fake.calls_to("chat.postMessage")) == 3 + 15


async def test_a_rejection_in_a_burst_keeps_its_own_broadcast_reply(database, slack) -> None:
    """Collapsed steps share one reply; the rejection is still broadcast to the channel."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, "w1")
    await _queue(database, "build.uploaded", "upR", "t0")
    await _queue(database, "build.downloading", "upR", "t1")
    await _queue(database, "build.extracting", "upR", "t2")
    await _queue(database, "build.rejected", "upR", "t3", objection="<!channel> bad *files*")
    await _drain(worker)
    [parent, steps, rejection] = fake.calls_to("chat.postMessage")
    assert "thread_ts" not in parent and "Rejected" in parent["text"]
    [ts] = (await WebhookStore(database).message_ts("C1", ["streampixel:upR"])).values()
    assert steps["thread_ts"] == ts and not steps["reply_broadcast"]
    assert steps["text"].splitlines()[0].startswith(":arrow_down: Downloading")
    assert len(steps["text"].splitlines()) == 2
    assert rejection["thread_ts"] == ts and rejection["reply_broadcast"]
    assert "&lt;!channel&gt;" in rejection["text"]
    assert not fake.calls_to("chat.update")


async def test_a_digest_past_block_kit_limits_is_split_never_dropped(database, slack) -> None:
    """300 builds with long links waiting: digests stay within the limits and show every one."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, "w1", digest_rows=1000)
    builds = [f"up{i:03d}-" + "x" * 30 for i in range(300)]
    for build in builds:
        url = f"https://f.example/{build}/" + "y" * 400
        await _queue(database, "build.uploaded", build, "t0", file_url=url)
    shown = ""
    for _ in range(40):  # enough for the digests; the builds' own messages are not awaited
        await worker.run_once()
        shown = json.dumps([d["blocks"] for d in _digests(fake)])
        if all(b in shown for b in builds):
            break
    assert all(b in shown for b in builds)
    digests = _digests(fake)
    assert len(digests) >= 2
    assert "more follow in the next digest" in json.dumps(digests[0]["blocks"])
    rows = await OutboxStore(database).rows(channel="C1")
    assert all(r.digest_ts for r in rows if r.status == "pending")


async def test_a_lone_latecomer_behind_a_long_backlog_gets_the_next_digest(database, slack) -> None:
    """After a digest, one more build arrives behind the backlog: a digest shows it too."""
    fake, client = slack
    clock = Clock()
    worker = _worker(database, client, clock, "w1", digest_interval=0)
    for i in range(6):
        await _queue(database, "build.uploaded", f"early{i}", "t0")
    assert await worker.run_once()
    assert len(_digests(fake)) == 1
    await _queue(database, "build.uploaded", "latecomer", "t1")
    assert await worker.run_once()
    digests = _digests(fake)
    assert len(digests) == 2
    assert "latecomer" in json.dumps(digests[1]["blocks"])
    assert "early" not in json.dumps(digests[1]["blocks"])  # nothing shown twice


async def test_a_new_build_message_costs_five_transactions(database, slack) -> None:
    """Lease, message, decisions, pacing (with the 429 check), completion (with the message
    saved): five transactions for a build's first notification (it was eight)."""
    from sqlalchemy import event

    fake, client = slack
    worker = _worker(database, client, Clock(), "w1")
    await _queue(database, "build.uploaded", "upT", "t0")
    begins: list[int] = []

    def count(*_: object) -> None:
        begins.append(1)

    event.listen(database.engine.sync_engine, "begin", count)
    try:
        assert await worker.run_once()
    finally:
        event.remove(database.engine.sync_engine, "begin", count)
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(begins) == 5
    assert await WebhookStore(database).message_ts("C1", ["streampixel:upT"])
