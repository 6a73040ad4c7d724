"""Approvals through signed Slack requests: policy, request, votes, refusals, run once, expiry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox.slack import Message
from storage.db import Database
from tests import slack_requests
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.harness import ADMIN
from tests.providers.streampixel_fixtures import SHOWROOM

CHANNEL = "C0CHANNEL1"
SECOND = "URELEASE2"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database, with a second releaser."""
    async with build_env(database) as running:
        await running.bot.container.authz.store.grant(SECOND, "releaser", "test")
        yield running


def value(upload_id: str) -> str:
    """The value a Distribute/Rollback button carries."""
    return json.dumps({"project_id": SHOWROOM, "upload_id": upload_id})


def approved_build(env: Env, name: str) -> str:
    """A new approved build of Showroom Demo in the simulator; returns its upload id."""
    return env.sim.add_upload(SHOWROOM, f"https://builds.example.com/{name}.zip").id


async def command(env: Env, text: str, user_id: str, command: str = "/build") -> dict[str, Any]:
    """Send a slash command; the reply it caused."""
    before = len(env.replies())
    response = await env.bot.command(command, text, user_id=user_id)
    assert response.status_code == 200
    return (await env.reply_count(before + 1))[before]  # in the ack or posted later


async def click(
    env: Env, action_id: str, raw: str, user_id: str, ts: str = "5.1"
) -> dict[str, Any]:
    """Send a signed click; the reply it caused."""
    before = len(env.replies())
    await env.bot.click(action_id, raw, user_id=user_id, message_ts=ts)
    return (await env.reply_count(before + 1))[before]


async def request_message(env: Env, predicate: str = "") -> Message:
    """The approval request message in the channel, once it shows ``predicate``."""

    def found(_: object) -> bool:
        return any(
            "Approval #" in m.text and predicate in json.dumps(m.blocks) + m.text
            for m in env.bot.slack.channel_messages(CHANNEL)
        )

    await env.bot.slack.wait_for(found, 20)
    [message] = [m for m in env.bot.slack.channel_messages(CHANNEL) if "Approval #" in m.text]
    return message


def approve_value(message: Message) -> str:
    """The Approve button's value on the request message."""
    return next(b["value"] for b in buttons(message.blocks) if b["action_id"] == "approval_approve")


def approve_steps(env: Env) -> list[tuple[Any, str, str]]:
    """(step, outcome, actor) of every audit row with action ``approve``."""
    events = env.bot.container.audit.events  # type: ignore[attr-defined]
    return [(e.params.get("step"), e.outcome, e.actor_id) for e in events if e.action == "approve"]


async def set_policy(env: Env, approvals: int) -> None:
    reply = await command(env, f"policy showroom approvals={approvals}", ADMIN)
    assert f"*{approvals}* approval(s)" in reply["text"] or approvals == 0


async def test_two_person_distribution_runs_once_after_two_other_approvals(env: Env) -> None:
    """Policy 2: the click posts a request; requester and viewer are refused; two votes run it."""
    await set_policy(env, 2)
    upload_id = approved_build(env, "g1")
    asked = await click(env, "build_distribute", value(upload_id), RELEASER)
    assert "Approval needed" in text_of(asked) and "Nothing was sent" in text_of(asked)
    message = await request_message(env)
    assert f"<@{RELEASER}> asks to distribute build `{upload_id}` of *Showroom Demo*" in text_of(
        {"text": message.text, "blocks": message.blocks}
    )
    request = approve_value(message)

    own = await click(env, "approval_approve", request, RELEASER)
    assert "cannot approve" in own["text"]
    viewer = await click(env, "approval_approve", request, VIEWER)
    assert "only releasers and admins" in viewer["text"]
    first = await click(env, "approval_approve", request, SECOND)
    assert "1 of 2" in first["text"]
    again = await click(env, "approval_approve", request, SECOND)
    assert "counts once" in again["text"]
    assert env.distributions(upload_id) == 0

    last = await click(env, "approval_approve", request, ADMIN)
    assert "completed request" in last["text"] and "distributed build" in last["text"]
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    final = await request_message(env, "ran it")
    assert buttons(final.blocks) == [] and f"<@{ADMIN}>" in json.dumps(final.blocks)
    assert approve_steps(env) == [
        ("request", "ok", RELEASER),
        ("vote", "denied", RELEASER),
        ("vote", "denied", VIEWER),
        ("vote", "ok", SECOND),
        ("vote", "denied", SECOND),
        ("vote", "ok", ADMIN),
        ("run", "ok", RELEASER),
    ]
    late = await click(env, "approval_approve", request, SECOND)
    assert "already over" in late["text"]


async def test_concurrent_approvals_make_one_provider_call(env: Env) -> None:
    """Two approvers clicking at once on a one-approval request: one distribution."""
    await set_policy(env, 1)
    upload_id = approved_build(env, "g2")
    await click(env, "build_distribute", value(upload_id), RELEASER)
    request = approve_value(await request_message(env))
    before = len(env.replies())
    await asyncio.gather(
        env.bot.click("approval_approve", request, user_id=SECOND, message_ts="6.1"),
        env.bot.click("approval_approve", request, user_id=ADMIN, message_ts="6.1"),
    )
    replies = (await env.reply_count(before + 2))[before:]
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    assert sum("completed request" in r["text"] for r in replies) == 1
    assert [s for s in approve_steps(env) if s[0] == "run"] != []


async def test_request_expires_with_the_clock_and_late_clicks_do_nothing(env: Env) -> None:
    """Past STREAMOPS_APPROVAL_HOURS the job expires it, the message says so, clicks are refused."""
    await set_policy(env, 1)
    upload_id = approved_build(env, "g3")
    await click(env, "build_distribute", value(upload_id), RELEASER)
    request = approve_value(await request_message(env))
    env.clock.advance(24 * 3600 + 1)
    expired = await env.bot.container.governance_job.run_once()
    assert len(expired) == 1
    message = await request_message(env, "Expired")
    assert buttons(message.blocks) == []
    late = await click(env, "approval_approve", request, SECOND)
    assert "expired" in late["text"]
    await env.sim.drain()
    assert env.distributions(upload_id) == 0
    assert ("expire", "ok", "streamops") in approve_steps(env)


async def test_reject_asks_for_a_reason_in_a_modal_and_ends_the_request(env: Env) -> None:
    """Reject opens a modal; the reason ends the request and shows on the message."""
    await set_policy(env, 1)
    upload_id = approved_build(env, "g4")
    await click(env, "build_distribute", value(upload_id), RELEASER)
    message = await request_message(env)
    request = approve_value(message)
    reject = next(b for b in buttons(message.blocks) if b["action_id"] == "approval_reject")
    await env.bot.click("approval_reject", reject["value"], user_id=SECOND, message_ts=message.ts)
    await env.bot.slack.wait_for(lambda s: bool(s.calls_to("views.open")), 20)
    view = env.bot.slack.calls_to("views.open")[-1]["view"]
    assert view["callback_id"] == "approval_reject_reason"
    empty = await env.bot.post_signed(
        slack_requests.view_submission(
            view["callback_id"], view["private_metadata"], user_id=SECOND
        )
    )
    assert "errors" in empty.json()
    values = {
        "text_block": {"text_input": {"type": "plain_text_input", "value": "crashes <on> load"}}
    }
    ok = await env.bot.post_signed(
        slack_requests.view_submission(
            view["callback_id"], view["private_metadata"], values, user_id=SECOND
        )
    )
    assert ok.status_code == 200
    final = await request_message(env, "Rejected by")
    assert "crashes &lt;on&gt; load" in json.dumps(final.blocks) and buttons(final.blocks) == []
    assert ("reject", "ok", SECOND) in approve_steps(env)
    late = await click(env, "approval_approve", request, ADMIN)
    assert "rejected" in late["text"]
    assert env.distributions(upload_id) == 0


async def test_policy_command_shows_sets_and_refuses_bad_input(env: Env) -> None:
    """Everyone may read a policy; only admins set it; bad input names the problem."""
    shown = await command(env, "policy showroom", VIEWER)
    assert "no approvals needed" in shown["text"]
    refused = await command(env, "policy showroom approvals=1", RELEASER)
    assert "admin" in refused["text"]
    for text, problem in (
        ("policy showroom approvals=4", "0 to 3"),
        ("policy showroom approvals=two", "number"),
        ("policy showroom approvers=media approvals=1", "releaser"),
        ("policy showroom colour=red", "unknown setting"),
        ("policy nosuchproject approvals=1", "no Streampixel project"),
    ):
        reply = await command(env, text, ADMIN)
        assert problem in reply["text"], (text, reply["text"])
    assert "no approvals needed" in (await command(env, "policy showroom", VIEWER))["text"]


async def test_pending_request_survives_a_restart(database: Database) -> None:
    """A request stored before a restart is approved and run by the next process."""
    async with build_env(database) as first:
        await first.bot.container.authz.store.grant(SECOND, "releaser", "test")
        await set_policy(first, 1)
        upload_id = approved_build(first, "g5")
        await click(first, "build_distribute", value(upload_id), RELEASER)
        request = approve_value(await request_message(first))
        sim = first.sim
    async with build_env(database, sim=sim) as second:
        reply = await click(second, "approval_approve", request, SECOND)
        assert "completed request" in reply["text"]
        await second.sim.drain()
        assert second.distributions(upload_id) == 1


async def test_an_approved_release_waits_in_the_queue_when_the_slot_is_busy(env: Env) -> None:
    """Approved within the 2-minute slot: queued at once, run by the queue when it opens."""
    await set_policy(env, 1)
    first, second = approved_build(env, "g6"), approved_build(env, "g7")
    await click(env, "build_distribute", value(first), RELEASER, ts="8.1")
    await click(env, "approval_approve", approve_value(await request_message(env)), SECOND)
    await env.sim.drain()
    assert env.distributions(first) == 1
    env.clock.advance(30)
    await click(env, "build_distribute", value(second), RELEASER, ts="8.2")

    def pending(_: object) -> bool:
        return any(
            "Approval #2" in m.text and buttons(m.blocks)
            for m in env.bot.slack.channel_messages(CHANNEL)
        )

    await env.bot.slack.wait_for(pending, 20)
    [message] = [m for m in env.bot.slack.channel_messages(CHANNEL) if "Approval #2" in m.text]
    queued = await click(env, "approval_approve", approve_value(message), ADMIN)
    assert "queued for" in queued["text"]
    assert env.distributions(second) == 0
    env.clock.advance(120)
    env.scheduler.wake()

    def ran(_: object) -> bool:
        return "ran it" in json.dumps(message.blocks)

    await env.bot.slack.wait_for(ran, 20)
    await env.sim.drain()
    assert env.distributions(second) == 1


async def test_a_vote_from_the_app_home_is_answered_by_direct_message(env: Env) -> None:
    """A click on the App Home (no channel, no response_url) votes and is answered in a DM."""
    from urllib.parse import parse_qsl, urlencode

    await set_policy(env, 1)
    upload_id = approved_build(env, "g8")
    await click(env, "build_distribute", value(upload_id), RELEASER)
    request = approve_value(await request_message(env))
    raw = slack_requests.block_actions("approval_approve", request, user_id=SECOND)
    payload = json.loads(dict(parse_qsl(raw.decode()))["payload"])
    for key in ("response_url", "channel", "message"):
        payload.pop(key, None)
    payload["container"] = {"type": "view", "view_id": "VHOME0001"}
    response = await env.bot.post_signed(urlencode({"payload": json.dumps(payload)}).encode())
    assert response.status_code == 200

    def answered(s: Any) -> bool:
        return any(
            p.get("channel") == SECOND and "completed request" in str(p.get("text"))
            for p in s.calls_to("chat.postMessage")
        )

    await env.bot.slack.wait_for(answered, 20)
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
