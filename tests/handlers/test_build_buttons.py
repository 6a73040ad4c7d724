"""Build buttons: authorization on every click, one run per button, the slot and the queue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage.builds import DONE, BuildStore
from storage.db import Database
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.harness import ADMIN
from tests.providers.streampixel_fixtures import APPROVED_BUILD, REJECTED_BUILD, SHOWROOM

CHANNEL = "C0CHANNEL1"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database."""
    async with build_env(database) as running:
        yield running


def value(upload_id: str, project_id: str = SHOWROOM) -> str:
    """The value the Distribute button carries (same shape as webhook notifications)."""
    return json.dumps({"project_id": project_id, "upload_id": upload_id})


def approved_build(env: Env, name: str) -> str:
    """A new approved build of Showroom Demo in the simulator; returns its upload id."""
    return env.sim.add_upload(SHOWROOM, f"https://builds.example.com/{name}.zip").id


def audit_rows(env: Env) -> list[tuple[str, str, str, str]]:
    """(action, outcome, actor, source) of every audited event so far."""
    return [
        (e.action, e.outcome, e.actor_id, e.source)
        for e in env.bot.container.audit.events  # type: ignore[attr-defined]
    ]


async def test_concurrent_double_click_distributes_once_and_updates_the_message(
    env: Env,
) -> None:
    """Two simultaneous clicks on one button make one provider call; the message says who."""
    upload_id = approved_build(env, "v2")
    await asyncio.gather(
        env.bot.click("build_distribute", value(upload_id), user_id=ADMIN, message_ts="1.1"),
        env.bot.click("build_distribute", value(upload_id), user_id=RELEASER, message_ts="1.1"),
    )
    replies = await env.reply_count(2)
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    [done] = [r for r in replies if r.get("replace_original")]
    [refused] = [r for r in replies if not r.get("replace_original")]
    assert "distributed build" in text_of(done) and upload_id in text_of(done)
    assert buttons(done["blocks"]) == []
    assert refused["response_type"] == "ephemeral" and "already used" in refused["text"]
    assert sorted(row[1] for row in audit_rows(env)) == ["denied", "ok"]
    assert env.sim.projects[SHOWROOM].live_upload_id == upload_id


async def test_a_used_button_clicked_later_is_refused(env: Env) -> None:
    """Clicking a spent button again names who used it and sends nothing."""
    upload_id = approved_build(env, "v3")
    await env.bot.click("build_distribute", value(upload_id), user_id=RELEASER, message_ts="2.1")
    await env.reply_count(1)
    await env.bot.click("build_distribute", value(upload_id), user_id=ADMIN, message_ts="2.1")
    second = (await env.reply_count(2))[1]
    assert f"<@{RELEASER}> did it" in second["text"]
    await env.sim.drain()
    assert env.distributions(upload_id) == 1


async def test_forged_click_by_a_viewer_is_refused_and_audited(env: Env) -> None:
    """A viewer's click (e.g. a forged payload) never reaches Streampixel and is audited."""
    upload_id = approved_build(env, "v4")
    await env.bot.click("build_distribute", value(upload_id), user_id=VIEWER)
    [reply] = await env.reply_count(1)
    assert "you need the *releaser* role" in reply["text"]
    assert env.distributions(upload_id) == 0
    assert audit_rows(env) == [("distribute", "denied", VIEWER, "button")]


async def test_provider_refusal_is_shown_and_the_button_stays_usable(env: Env) -> None:
    """A build Streampixel cannot distribute yields its words; the button is not spent."""
    click = value(REJECTED_BUILD)
    await env.bot.click("build_distribute", click, user_id=RELEASER, message_ts="4.1")
    [reply] = await env.reply_count(1)
    assert reply["text"] == ":x: Streampixel said: File has no URL"
    assert audit_rows(env) == [("distribute", "failed", RELEASER, "button")]
    key = f"distribute:{SHOWROOM}:{REJECTED_BUILD}:{CHANNEL}:4.1"
    assert await env.bot.container.claims.get(key) is None
    await env.bot.click("build_distribute", click, user_id=RELEASER, message_ts="4.1")
    second = (await env.reply_count(2))[1]
    assert "already used" not in text_of(second) and "next slot opens" in text_of(second)


async def test_rollback_click_redistributes_an_older_build(env: Env) -> None:
    """A confirmed rollback click re-distributes the chosen build and says so in place."""
    await env.bot.click("build_rollback", value(APPROVED_BUILD), user_id=RELEASER)
    [reply] = await env.reply_count(1)
    await env.sim.drain()
    assert env.distributions(APPROVED_BUILD) == 1
    assert "rolled back to build" in text_of(reply) and reply["replace_original"] is True
    assert audit_rows(env) == [("rollback", "ok", RELEASER, "button")]


async def test_busy_slot_offers_a_queue_that_runs_when_the_clock_passes_it(env: Env) -> None:
    """Within 2 minutes of a distribution the bot queues the next one and runs it later."""
    first, second = approved_build(env, "v5"), approved_build(env, "v6")
    await env.bot.click("build_distribute", value(first), user_id=RELEASER, message_ts="3.1")
    await env.reply_count(1)
    env.clock.advance(30)
    await env.bot.click("build_distribute", value(second), user_id=RELEASER, message_ts="3.2")
    busy = (await env.reply_count(2))[1]
    assert "next slot opens" in text_of(busy) and busy["replace_original"] is True
    [queue_button] = buttons(busy["blocks"])
    opens = env.now().replace(microsecond=0)
    assert queue_button["action_id"] == "build_queue_distribute"
    assert queue_button["text"]["text"].startswith("Queue for ")
    assert env.distributions(second) == 0

    await env.bot.click(
        "build_queue_distribute", queue_button["value"], user_id=RELEASER, message_ts="3.2"
    )
    queued_reply = (await env.reply_count(3))[2]
    assert "queued" in text_of(queued_reply) and buttons(queued_reply["blocks"]) == []
    [queued] = await BuildStore(env.bot.container.db).queued()
    assert (queued.upload_id, queued.state) == (second, "pending")
    assert queued.run_at > opens

    assert await env.scheduler.run_due() == []
    assert env.distributions(second) == 0

    env.clock.advance(90)
    env.scheduler.wake()
    await env.bot.slack.wait_for(lambda s: bool(s.channel_messages(CHANNEL)))
    await env.sim.drain()
    assert env.distributions(second) == 1
    [posted] = env.bot.slack.channel_messages(CHANNEL)
    assert second in posted.text and f"<@{RELEASER}>" in json.dumps(posted.blocks)
    [done] = await BuildStore(env.bot.container.db).queued()
    assert done.state == DONE
    assert audit_rows(env)[-1] == ("distribute", "ok", RELEASER, "scheduler")
    assert [row[:2] for row in audit_rows(env)] == [
        ("distribute", "ok"),
        ("distribute", "denied"),
        ("queue", "ok"),
        ("distribute", "ok"),
    ]


async def test_viewer_cannot_queue(env: Env) -> None:
    """The queue button is authorized on the server like every other click."""
    payload = json.dumps({"action": "distribute", "project_id": SHOWROOM, "upload_id": "x"})
    await env.bot.click("build_queue_distribute", payload, user_id=VIEWER)
    [reply] = await env.reply_count(1)
    assert "releaser" in reply["text"]
    assert await BuildStore(env.bot.container.db).queued() == []
    assert audit_rows(env) == [("queue", "denied", VIEWER, "button")]


async def test_queued_work_left_by_a_previous_process_runs_after_restart(
    database: Database,
) -> None:
    """A queued distribution stored before a restart is run by the next process."""
    async with build_env(database) as first:
        upload_id = approved_build(first, "v7")
        await BuildStore(database).enqueue(
            project_id=SHOWROOM,
            upload_id=upload_id,
            action="distribute",
            requested_by=RELEASER,
            channel_id=CHANNEL,
            run_at=first.now() + timedelta(seconds=60),
            now=first.now(),
        )
        sim = first.sim
    [pending] = await BuildStore(database).queued()
    assert pending.state == "pending"
    async with build_env(database, sim=sim) as second:
        second.clock.advance(60)
        second.scheduler.wake()
        await second.bot.slack.wait_for(lambda s: bool(s.channel_messages(CHANNEL)))
        await second.sim.drain()
        assert second.distributions(upload_id) == 1
        assert audit_rows(second) == [("distribute", "ok", RELEASER, "scheduler")]
