"""Freezes through signed Slack requests: refusal on every path, override, end, bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from storage.builds import BuildStore
from storage.db import Database
from tests import slack_requests
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.harness import ADMIN
from tests.providers.streampixel_fixtures import SHOWROOM

CHANNEL = "C0CHANNEL1"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database."""
    async with build_env(database) as running:
        yield running


def value(upload_id: str) -> str:
    """The value a Distribute/Rollback button carries."""
    return json.dumps({"project_id": SHOWROOM, "upload_id": upload_id})


def approved_build(env: Env, name: str) -> str:
    """A new approved build of Showroom Demo in the simulator; returns its upload id."""
    return env.sim.add_upload(SHOWROOM, f"https://builds.example.com/{name}.zip").id


async def command(env: Env, text: str, user_id: str, command: str = "/streamops") -> dict[str, Any]:
    """Send a slash command; the reply it caused (in the ack, or posted later)."""
    before = len(env.replies())
    response = await env.bot.command(command, text, user_id=user_id)
    assert response.status_code == 200
    return (await env.reply_count(before + 1))[before]


async def click(
    env: Env, action_id: str, raw: str, user_id: str, ts: str = "7.1"
) -> dict[str, Any]:
    """Send a signed click; the reply it caused."""
    before = len(env.replies())
    await env.bot.click(action_id, raw, user_id=user_id, message_ts=ts)
    return (await env.reply_count(before + 1))[before]


def audit(env: Env) -> list[tuple[str, str, str]]:
    """(action, outcome, actor) of every audit row."""
    events = env.bot.container.audit.events  # type: ignore[attr-defined]
    return [(e.action, e.outcome, e.actor_id) for e in events]


async def freeze_showroom(env: Env) -> None:
    reply = await command(env, "freeze showroom for 2h launch <day>", ADMIN)
    assert reply.get("response_type") == "in_channel"
    assert "*Showroom Demo*" in reply["text"] and "launch &lt;day&gt;" in reply["text"]


async def test_freeze_refuses_every_release_path_before_streampixel(env: Env) -> None:
    """Distribute, rollback, an auto-release upload and a queued run are refused, with why."""
    await freeze_showroom(env)
    upload_id = approved_build(env, "f1")
    for action_id in ("build_distribute", "build_rollback"):
        refused = await click(env, action_id, value(upload_id), RELEASER)
        shown = text_of(refused)
        assert "refused" in shown and "launch &lt;day&gt;" in shown
        assert f"<@{ADMIN}>" in shown and "<!date^" in shown
        assert buttons(refused.get("blocks") or []) == []  # a releaser gets no override
    upload = await command(env, "upload showroom https://builds.example.com/f2.zip", RELEASER,
                           "/build")  # fmt: skip
    assert "refused" in upload["text"]
    kept = await command(
        env, "upload showroom https://builds.example.com/f3.zip --no-auto-release", RELEASER,
        "/build",
    )  # fmt: skip
    assert "queued for processing" in text_of(kept)

    await BuildStore(env.bot.container.db).enqueue(
        project_id=SHOWROOM,
        upload_id=upload_id,
        action="distribute",
        requested_by=RELEASER,
        channel_id=CHANNEL,
        run_at=env.now(),
        now=env.now(),
    )
    [run] = await env.scheduler.run_due()
    assert run.outcome == "failed" and "frozen" in run.message
    await env.sim.drain()
    assert env.distributions(upload_id) == 0
    denied = [row for row in audit(env) if row[1] == "denied"]
    assert [row[0] for row in denied] == ["distribute", "rollback", "upload", "distribute"]


async def test_admin_overrides_one_action_with_a_reason(env: Env) -> None:
    """An admin's refusal carries Override…; the modal's reason is audited and announced."""
    await freeze_showroom(env)
    upload_id = approved_build(env, "f4")
    refused = await click(env, "build_distribute", value(upload_id), ADMIN)
    [override] = buttons(refused["blocks"])
    await env.bot.click("freeze_override", override["value"], user_id=ADMIN, message_ts="7.2")
    await env.bot.slack.wait_for(lambda s: bool(s.calls_to("views.open")), 20)
    view = env.bot.slack.calls_to("views.open")[-1]["view"]
    viewer_click = await click(env, "freeze_override", override["value"], VIEWER)
    assert "only admins" in viewer_click["text"]
    values = {"text_block": {"text_input": {"type": "plain_text_input", "value": "hotfix <1>"}}}
    response = await env.bot.post_signed(
        slack_requests.view_submission(
            view["callback_id"], view["private_metadata"], values, user_id=ADMIN
        )
    )
    assert response.status_code == 200
    await env.bot.slack.wait_for(
        lambda s: any("overrode the freeze" in m.text for m in s.channel_messages(CHANNEL)), 20
    )
    await env.bot.slack.wait_for(
        lambda s: any("distributed build" in m.text for m in s.channel_messages(CHANNEL)), 20
    )
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    announcement = next(m for m in env.bot.slack.channel_messages(CHANNEL) if "overrode" in m.text)
    assert "hotfix &lt;1&gt;" in announcement.text
    assert ("freeze.override", "ok", ADMIN) in audit(env)
    assert ("distribute", "ok", ADMIN) in audit(env)
    other = approved_build(env, "f5")
    again = await click(env, "build_distribute", value(other), ADMIN, ts="7.3")
    assert "refused" in text_of(again)


async def test_freeze_ends_by_itself_and_the_channel_is_told(env: Env) -> None:
    """Past its end the job announces it once, and releases work again."""
    await freeze_showroom(env)
    env.clock.advance(2 * 3600)
    ended = await env.bot.container.governance_job.run_once()
    assert ended == []  # no approval expired
    await env.bot.slack.wait_for(
        lambda s: any("ended" in m.text for m in s.channel_messages(CHANNEL)), 20
    )
    assert ("freeze.end", "ok", "streamops") in audit(env)
    listed = await command(env, "freezes", VIEWER)
    assert "No freezes" in listed["text"]
    upload_id = approved_build(env, "f6")
    done = await click(env, "build_distribute", value(upload_id), RELEASER)
    assert "distributed build" in text_of(done)


async def test_unfreeze_and_the_list_for_everyone(env: Env) -> None:
    """freezes lists active and upcoming ones for a viewer; unfreeze lifts at once."""
    await freeze_showroom(env)
    later = (env.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%MZ")
    await command(env, f"freeze all from {later} for 1d holidays", ADMIN)
    listed = await command(env, "freezes", VIEWER)
    shown = text_of(listed)
    assert ":snowflake: active: *Showroom Demo*" in shown
    assert ":calendar: upcoming: *all projects*" in shown
    refused = await command(env, "unfreeze showroom", RELEASER)
    assert "admin" in refused["text"]
    lifted = await command(env, "unfreeze showroom", ADMIN)
    assert "lifted 1 freeze" in lifted["text"]
    assert ("unfreeze", "ok", ADMIN) in audit(env)
    upload_id = approved_build(env, "f7")
    done = await click(env, "build_distribute", value(upload_id), RELEASER)
    assert "distributed build" in text_of(done)


async def test_bad_freeze_input_names_the_problem_and_stores_nothing(env: Env) -> None:
    """Unknown project, no window, a past time, no reason, not an admin."""
    for text, problem in (
        ("freeze nosuchproject for 2h x", "no Streampixel project"),
        ("freeze showroom launch", "how long"),
        ("freeze showroom until 2020-01-01T00:00Z x", "in the past"),
        ("freeze showroom for 2h", "reason"),
        ("freeze showroom for soon x", "not a duration"),
    ):
        reply = await command(env, text, ADMIN)
        assert problem in reply["text"], (text, reply["text"])
    refused = await command(env, "freeze showroom for 2h x", RELEASER)
    assert "admin" in refused["text"]
    assert "No freezes" in (await command(env, "freezes", VIEWER))["text"]


async def test_a_freeze_on_all_refuses_video_deletes(database: Database) -> None:
    """`freeze all` also stops StreamStack deletes, before the DELETE is sent."""
    from handlers.ids import MEDIA_DELETE
    from tests.handlers.media_fixtures import MEDIA_USER, acme, running_stack

    async with running_stack(database, streamapi=False, STREAMOPS_DELETE_UNDO_MINUTES=0) as stack:
        frozen = await stack.command("/streamops", "freeze all for 1h storage migration", ADMIN)
        assert "*all projects*" in text_of(frozen) and "video deletes" in text_of(frozen)
        video = acme(stack, "Onboarding walkthrough")
        await stack.bot.click(MEDIA_DELETE, video.uuid, user_id=MEDIA_USER, message_ts="9.1")
        refused = (await stack.reply_count(2))[1]
        assert "Delete refused" in refused["text"] and "storage migration" in refused["text"]
        assert video.uuid in stack.streamstack.media
        assert stack.streamstack_http.count("DELETE") == 0
        assert [e.outcome for e in stack.events("delete")] == ["denied"]
