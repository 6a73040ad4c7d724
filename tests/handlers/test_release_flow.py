"""Live builds, last-good rollback, refusals and decision stamps through signed requests.

The bot runs on a real database against the Streampixel simulator over loopback
HTTP; both read one fake clock. Webhooks are POSTed to the bot as Streampixel
would send them; the delivery worker posts to the fake Slack.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.db import Database
from tests.handlers.build_env import RELEASER, VIEWER, Env, build_env, buttons, text_of
from tests.providers.streampixel_fixtures import APPROVED_BUILD, REJECTED_BUILD, SHOWROOM

CHANNEL = "C0CHANNEL1"
DEFAULT_CHANNEL = "C0DEFAULT"
TOKEN = "webhook-token-0123456789"


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    """Bot + simulator on the migrated database."""
    async with build_env(database) as running:
        yield running


def value(upload_id: str, project_id: str = SHOWROOM) -> str:
    """The value a Distribute / Roll back button carries."""
    return json.dumps({"project_id": project_id, "upload_id": upload_id})


def audit_rows(env: Env) -> list[tuple[str, str, str, str]]:
    """(action, outcome, actor, source) of every audited event so far."""
    return [
        (e.action, e.outcome, e.actor_id, e.source)
        for e in env.bot.container.audit.events  # type: ignore[attr-defined]
    ]


async def released(env: Env, name: str, ts: str) -> str:
    """A new approved build distributed by the releaser's click; its upload id."""
    upload_id = env.sim.add_upload(SHOWROOM, f"https://builds.example.com/{name}.zip").id
    before = len(env.replies())
    await env.bot.click("build_distribute", value(upload_id), user_id=RELEASER, message_ts=ts)
    await env.reply_count(before + 1)
    await env.sim.drain()
    assert env.distributions(upload_id) == 1
    env.clock.advance(125)  # past Streampixel's 2-minute window
    return upload_id


async def test_rollback_offers_the_previous_live_build_first(env: Env) -> None:
    """Two releases: the picker leads with the first, never offers the live or rejected one."""
    first = await released(env, "v1", "1.1")
    second = await released(env, "v2", "1.2")
    await env.bot.command("/build", "rollback showroom", user_id=RELEASER)
    reply = (await env.reply_count(3))[2]
    offered = buttons(reply["blocks"])
    ids = [json.loads(b["value"])["upload_id"] for b in offered]
    assert ids[0] == first and offered[0]["text"]["text"] == f"Roll back to {first}"
    assert second not in ids and REJECTED_BUILD not in ids
    assert ids == [first, APPROVED_BUILD]  # the demo's approved build, learnt from project data
    text = text_of(reply)
    assert f"Live now: `{second}`" in text and f"distributed by <@{RELEASER}>" in text
    assert f"replacing the live build {second}" in offered[0]["confirm"]["text"]["text"]

    await env.bot.command("/build", "builds showroom", user_id=VIEWER)
    listing = text_of((await env.reply_count(4))[3])
    assert f"`{second}` · :large_green_circle: *LIVE* since" in listing
    assert f"`{first}` · :leftwards_arrow_with_hook: *previous live*" in listing
    assert f"`{REJECTED_BUILD}` · :x: rejected" in listing

    # The last-good rollback itself: one click, and the marks swap.
    await env.bot.click("build_rollback", offered[0]["value"], user_id=RELEASER, message_ts="1.3")
    await env.reply_count(5)
    await env.sim.drain()
    assert env.distributions(first) == 2
    state = await env.bot.container.timeline.live_states([SHOWROOM])
    current, previous = state[SHOWROOM].current, state[SHOWROOM].previous
    assert current is not None and (current.upload_id, current.via) == (first, "rollback")
    assert previous is not None and previous.upload_id == second


async def test_a_rejected_build_is_refused_locally_and_the_slot_stays_free(env: Env) -> None:
    """The click is refused with the reason, audited; the next distribution goes through."""
    await env.bot.command("/build", "builds showroom", user_id=VIEWER)  # learns the project data
    await env.reply_count(1)
    await env.bot.click(
        "build_distribute", value(REJECTED_BUILD), user_id=RELEASER, message_ts="2.1"
    )
    refused = (await env.reply_count(2))[1]
    assert "Not sent: Streampixel rejected build" in refused["text"]
    assert "distribute slot was not used" in refused["text"]
    assert env.distributions(REJECTED_BUILD) == 0
    assert ("distribute", "denied", RELEASER, "button") in audit_rows(env)

    await env.bot.click(
        "build_distribute", value(APPROVED_BUILD), user_id=RELEASER, message_ts="2.2"
    )
    done = (await env.reply_count(3))[2]
    assert "distributed build" in text_of(done)  # not "next slot opens"
    await env.sim.drain()
    assert env.distributions(APPROVED_BUILD) == 1


async def test_known_failures_are_refused_when_offered(env: Env) -> None:
    """A build of another project or a rejected one gets no button at all."""
    await env.bot.command("/build", f"distribute showroom {REJECTED_BUILD}", user_id=RELEASER)
    rejected = (await env.reply_count(1))[0]
    assert "Not sent: Streampixel rejected build" in rejected["text"]
    await env.bot.command("/build", f"distribute retail {APPROVED_BUILD}", user_id=RELEASER)
    other = (await env.reply_count(2))[1]
    assert "belongs to another project" in other["text"] and "blocks" not in other


async def test_an_unknown_build_is_offered_with_a_warning(env: Env) -> None:
    """An upload id the bot never saw is still sent, and the dialog says it is unknown."""
    unknown = "0123456789abcdef01234567"
    await env.bot.command("/build", f"distribute showroom {unknown}", user_id=RELEASER)
    [offer] = await env.reply_count(1)
    [run] = buttons(offer["blocks"])
    assert "never seen this build" in run["confirm"]["text"]["text"]
    assert "never seen this build" in text_of(offer) and "*Showroom Demo*" in text_of(offer)
    await env.bot.click("build_distribute", run["value"], user_id=RELEASER, message_ts="3.1")
    answer = (await env.reply_count(2))[1]
    assert answer["text"] == ":x: Streampixel said: File not found in project"


async def post_webhook(env: Env, event: str, upload_id: str, ts: str, status: str) -> None:
    """POST one Streampixel webhook about ``upload_id`` to the bot."""
    body = {
        "event": event,
        "projectId": SHOWROOM,
        "uploadId": upload_id,
        "fileUrl": f"https://builds.example.com/{upload_id}.zip",
        "status": status,
        "objection": None,
        "timestamp": ts,
    }
    response = await env.bot.http.post(
        f"{env.bot.url}/webhooks/streampixel/{TOKEN}",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200


def build_message(env: Env, upload_id: str) -> Any:
    """The top-level channel message about ``upload_id``."""
    [message] = [
        m
        for m in env.bot.slack.channel_messages(DEFAULT_CHANNEL)
        if m.thread_ts is None and upload_id in m.text
    ]
    return message


async def test_decision_stamps_survive_three_later_webhooks(env: Env) -> None:
    """Distributed from its notification; three webhooks later the message still says who."""
    upload_id = env.sim.add_upload(SHOWROOM, "https://builds.example.com/v9.zip").id
    await env.bot.command("/build", "projects", user_id=VIEWER)  # the bot learns project names
    await env.reply_count(1)
    await post_webhook(env, "build.uploaded", upload_id, "2026-12-01T10:00:00Z", "pending")
    await post_webhook(env, "build.approved", upload_id, "2026-12-01T10:04:00Z", "Approved")
    await env.bot.slack.wait_for(
        lambda s: any(
            "Distribute" in json.dumps(m.blocks) for m in s.channel_messages(DEFAULT_CHANNEL)
        ),
        within=30,
    )
    message = build_message(env, upload_id)
    assert "of *Showroom Demo* (`" in text_of({"blocks": message.blocks})
    [distribute] = buttons(message.blocks)
    await env.bot.click(
        "build_distribute",
        distribute["value"],
        user_id=RELEASER,
        channel_id=DEFAULT_CHANNEL,
        message_ts=message.ts,
    )
    answer = (await env.reply_count(2))[1]
    assert answer["replace_original"] is False  # the message itself is re-rendered
    stamp = f"Distributed by <@{RELEASER}>"
    await env.bot.slack.wait_for(
        lambda s: stamp in json.dumps(build_message(env, upload_id).blocks)
    )
    assert buttons(build_message(env, upload_id).blocks) == []

    edits = build_message(env, upload_id).edits
    for event, ts, status in (
        ("build.distributing", "2026-12-01T10:06:00Z", "Distribute"),
        ("build.saving", "2026-12-01T10:03:00Z", "Saving to Repository"),  # late, out of order
        ("build.approved", "2026-12-01T10:09:00Z", "Approved"),
    ):
        await post_webhook(env, event, upload_id, ts, status)
    # Waiting steps may be collapsed into fewer edits: wait for the final state.
    await env.bot.slack.wait_for(
        lambda s: (
            "Approved and distributed" in text_of({"blocks": build_message(env, upload_id).blocks})
        ),
        within=30,
    )
    assert build_message(env, upload_id).edits > edits
    final = build_message(env, upload_id)
    assert stamp in json.dumps(final.blocks) and "<!date^" in json.dumps(final.blocks)
    assert "Approved and distributed" in text_of({"blocks": final.blocks})
    assert "Showroom Demo" in final.text
