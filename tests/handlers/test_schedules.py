"""Scheduled distributions through signed requests: schedule, list, cancel, run once, missed.

The bot and the Streampixel simulator share one fake clock; the test moves it
and runs the schedule job's round (as its loop does when woken).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from storage.schedules import ScheduleStore
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.harness import ADMIN
from tests.providers.streampixel_fixtures import REJECTED_BUILD, SHOWROOM

CHANNEL = "C0CHANNEL1"
OTHER_RELEASER = "URELEASE2"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database, with a second releaser."""
    async with build_env(database) as running:
        await running.bot.container.authz.store.grant(OTHER_RELEASER, "releaser", "test")
        yield running


def audit(env: Env) -> list[object]:
    """Every audited event so far."""
    return list(env.bot.container.audit.events)  # type: ignore[attr-defined]


async def schedule(env: Env, when: str, *, user: str = RELEASER, ts: str = "5.1") -> str:
    """``/build distribute showroom <new approved build> <when>`` and its confirmed click."""
    upload_id = env.sim.add_upload(SHOWROOM, "https://builds.example.com/s.zip").id
    before = len(env.replies())
    await env.bot.command("/build", f"distribute showroom {upload_id} {when}", user_id=user)
    offer = (await env.reply_count(before + 1))[before]
    [button] = buttons(offer["blocks"])
    assert button["action_id"] == "build_schedule" and "<!date^" in text_of(offer)
    await env.bot.click("build_schedule", button["value"], user_id=user, message_ts=ts)
    notice = (await env.reply_count(before + 2))[before + 1]
    assert "scheduled run #" in text_of(notice) and notice["replace_original"] is True
    return upload_id


async def ended(env: Env, upload_id: str) -> str:
    """Run a round of the schedule job (the background loop may win it) and wait for the end.

    Returns:
        The final state of the run scheduled for ``upload_id``.
    """
    await env.bot.container.schedule_runner.run_due()
    store = ScheduleStore(env.bot.container.db)

    async def state() -> str:
        async with env.bot.container.db.session() as session:
            from sqlmodel import select

            from storage.schedules import ScheduledRelease

            row = (
                await session.exec(
                    select(ScheduledRelease).where(ScheduledRelease.upload_id == upload_id)
                )
            ).one()
            return row.state

    for _ in range(300):
        current = await state()
        if current not in ("pending", "running"):
            return current
        await env.bot.container.schedule_runner.run_due()
        await asyncio.sleep(0.05)
    assert store is not None
    raise AssertionError(f"run of {upload_id} did not end: {await state()}")


async def reports(env: Env, n: int) -> list[str]:
    """Wait for ``n`` scheduled-run reports in the channel; their texts."""
    await env.bot.slack.wait_for(
        lambda s: len([m for m in s.channel_messages(CHANNEL) if "Scheduled run" in m.text]) >= n,
        within=30,
    )
    return [
        f"{m.text}\n{json.dumps(m.blocks)}"
        for m in env.bot.slack.channel_messages(CHANNEL)
        if "Scheduled run" in m.text
    ]


async def test_a_scheduled_distribution_runs_once_at_its_time_and_reports(env: Env) -> None:
    """Nothing before the time; at the time one distribution, a report, an audit row."""
    requested_at = env.now()
    upload_id = await schedule(env, "in 10m")
    runner = env.bot.container.schedule_runner
    assert await runner.run_due() == []
    env.clock.advance(9 * 60)
    assert await runner.run_due() == []
    assert env.distributions(upload_id) == 0

    await env.bot.command("/build", "scheduled", user_id=VIEWER)
    listed = env.replies()[-1] if len(env.replies()) >= 3 else (await env.reply_count(3))[2]
    assert upload_id in text_of(listed)
    assert [b["action_id"] for b in buttons(listed["blocks"])] == ["build_schedule_cancel"]

    env.clock.advance(61)
    assert await ended(env, upload_id) == "done"
    assert await runner.run_due() == []
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    [report] = await reports(env, 1)
    assert "done" in report and "Showroom Demo" in report

    [row] = [e for e in audit(env) if e.action == "distribute"]  # type: ignore[attr-defined]
    assert (row.outcome, row.actor_id, row.source) == ("ok", RELEASER, "scheduler")
    assert row.requested_at == env.now()  # when it ran, not when it was asked for
    assert row.params["requested_by"] == RELEASER
    assert row.params["requested_at"] == requested_at.isoformat()
    state = (await env.bot.container.timeline.live_states([SHOWROOM]))[SHOWROOM]
    assert state.current is not None and state.current.source == "schedule"


async def test_a_busy_slot_makes_the_run_wait_then_run(env: Env) -> None:
    """Due while the slot is in use: it waits for the slot, then runs once."""
    upload_id = await schedule(env, "in 1m")
    other = env.sim.add_upload(SHOWROOM, "https://builds.example.com/o.zip").id
    env.clock.advance(50)
    await env.bot.click(
        "build_distribute",
        json.dumps({"project_id": SHOWROOM, "upload_id": other}),
        user_id=ADMIN,
        message_ts="6.1",
    )
    await env.reply_count(3)
    env.clock.advance(15)
    runner = env.bot.container.schedule_runner
    await runner.run_due()  # slot busy: pending again, due when it opens
    [waiting] = await ScheduleStore(env.bot.container.db).upcoming()
    assert waiting.state == "pending" and waiting.run_at > waiting.due_at
    env.clock.advance(120)
    assert await ended(env, upload_id) == "done"
    await env.sim.drain()
    assert env.distributions(upload_id) == 1


async def test_cancel_by_the_requester_or_an_admin_only(env: Env) -> None:
    """Another releaser is refused; the requester cancels; the run never happens."""
    upload_id = await schedule(env, "at 2025-10-09T12:00Z")
    [pending] = await ScheduleStore(env.bot.container.db).upcoming()
    await env.bot.click("build_schedule_cancel", str(pending.id), user_id=OTHER_RELEASER)
    refused = (await env.reply_count(3))[2]
    assert "admin" in refused["text"]
    await env.bot.click("build_schedule_cancel", str(pending.id), user_id=RELEASER)
    cancelled = (await env.reply_count(4))[3]
    assert f"<@{RELEASER}> cancelled run #{pending.id}" in text_of(cancelled)
    await env.bot.click("build_schedule_cancel", str(pending.id), user_id=ADMIN)
    again = (await env.reply_count(5))[4]
    assert "can no longer be cancelled" in again["text"]
    env.clock.advance(24 * 3600)
    assert await env.bot.container.schedule_runner.run_due() == []
    assert env.distributions(upload_id) == 0
    steps = [(e.action, e.outcome) for e in audit(env)]  # type: ignore[attr-defined]
    assert steps.count(("schedule", "denied")) == 2 and ("schedule", "ok") in steps


async def test_an_admin_cancels_someone_elses_run(env: Env) -> None:
    """Admins may cancel any run."""
    await schedule(env, "in 2h")
    [pending] = await ScheduleStore(env.bot.container.db).upcoming()
    await env.bot.click("build_schedule_cancel", str(pending.id), user_id=ADMIN)
    cancelled = (await env.reply_count(3))[2]
    assert f"<@{ADMIN}> cancelled" in text_of(cancelled)


async def test_a_run_missed_by_more_than_the_grace_is_reported_not_run(env: Env) -> None:
    """No replica was up for 31 minutes past the time: reported missed, nothing sent."""
    upload_id = await schedule(env, "in 5m")
    env.clock.advance(5 * 60 + 31 * 60)
    assert await ended(env, upload_id) == "missed"
    [report] = await reports(env, 1)
    assert "missed" in report
    assert env.distributions(upload_id) == 0
    [row] = [e for e in audit(env) if e.action == "distribute"]  # type: ignore[attr-defined]
    assert (row.outcome, row.source, row.params["step"]) == ("failed", "scheduler", "missed")


async def test_at_run_time_the_role_is_checked_again(env: Env) -> None:
    """The requester lost the releaser role before the time: refused and reported."""
    upload_id = await schedule(env, "in 5m", user=OTHER_RELEASER)
    await env.bot.container.authz.store.revoke(OTHER_RELEASER, "releaser")
    env.clock.advance(5 * 60)
    assert await ended(env, upload_id) == "refused"
    assert env.distributions(upload_id) == 0
    [report] = await reports(env, 1)
    assert "refused" in report and "releaser" in report


async def test_scheduling_refuses_bad_times_viewers_and_known_failures(env: Env) -> None:
    """A past time, a viewer and a rejected build get words, and nothing is stored."""
    await env.bot.command(
        "/build", "distribute showroom abc at 2020-01-01T00:00Z", user_id=RELEASER
    )
    past = (await env.reply_count(1))[0]
    assert "in the past" in past["text"]
    await env.bot.command("/build", "distribute showroom abc in 1h", user_id=VIEWER)
    viewer = (await env.reply_count(2))[1]
    assert "releaser" in viewer["text"]
    await env.bot.command("/build", f"distribute showroom {REJECTED_BUILD} in 1h", user_id=RELEASER)
    rejected = (await env.reply_count(3))[2]
    assert "Streampixel rejected build" in rejected["text"]
    await env.bot.command("/build", "distribute showroom abc tomorrow", user_id=RELEASER)
    garbled = (await env.reply_count(4))[3]
    assert "say when" in garbled["text"]
    assert await ScheduleStore(env.bot.container.db).upcoming() == []


async def test_a_run_survives_a_restart(database: Database) -> None:
    """Scheduled by one process, run by the next one."""
    async with build_env(database) as first:
        upload_id = await schedule(first, "in 3m")
        sim = first.sim
    async with build_env(database, sim=sim) as second:
        second.clock.advance(3 * 60)
        assert await ended(second, upload_id) == "done"
        await second.sim.drain()
        assert second.distributions(upload_id) == 1


async def test_a_run_on_a_project_needing_approvals_asks_for_them_at_its_time(env: Env) -> None:
    """Policy approvals=1: at the time the request is posted and nothing is sent yet."""
    await env.bot.command("/build", "policy showroom approvals=1", user_id=ADMIN)
    await env.reply_count(1)
    upload_id = env.sim.add_upload(SHOWROOM, "https://builds.example.com/a.zip").id
    await env.bot.command("/build", f"distribute showroom {upload_id} in 5m", user_id=RELEASER)
    offer = (await env.reply_count(2))[1]
    assert "needs 1 approval(s)" in text_of(offer)
    [button] = buttons(offer["blocks"])
    await env.bot.click("build_schedule", button["value"], user_id=RELEASER, message_ts="9.1")
    await env.reply_count(3)
    env.clock.advance(5 * 60)
    assert await ended(env, upload_id) == "approval"
    assert env.distributions(upload_id) == 0
    [report] = await reports(env, 1)
    assert "waiting for approval" in report and "runs once approved" in report


async def test_a_freeze_that_began_after_scheduling_refuses_the_run(env: Env) -> None:
    """Scheduled before a freeze, due during it: refused at run time, nothing sent, reported."""
    upload_id = await schedule(env, "in 5m")
    before = len(env.replies())
    await env.bot.command("/streamops", "freeze showroom for 2h launch day", user_id=ADMIN)
    frozen = (await env.reply_count(before + 1))[before]
    assert "launch day" in text_of(frozen)
    env.clock.advance(5 * 60)
    assert await ended(env, upload_id) == "refused"
    assert env.distributions(upload_id) == 0
    [report] = await reports(env, 1)
    assert "refused" in report and "launch day" in report
