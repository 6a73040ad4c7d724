"""`/live` end to end: signed slash commands → real app → real StreamAPI simulator."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.handlers.media_fixtures import MEDIA_USER, VIEWER, Stack, running_stack, text_of

ALICE = "1000016132"
BOB = "1000016133"
PARTNER_HOST = "1000020001"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    """The bot on the migrated database, wired to the StreamAPI simulator."""
    async with running_stack(database, streamstack=False) as running:
        yield running


def paths(stack: Stack) -> list[str]:
    """The StreamAPI paths the simulator answered, in order."""
    return [call.path for call in stack.streamapi.calls]


async def test_list_shows_live_sessions_without_private_ids(stack: Stack) -> None:
    """`/live list` names who is live and their audience, never a private host id."""
    reply = await stack.command("/live", "list", VIEWER)
    text = text_of(reply)
    assert "alice" in text and ALICE in text and "12 watching" in text
    assert "bob" not in text
    assert stack.streamapi.sessions[ALICE].private_hostid not in text
    assert paths(stack) == ["/session/live/list"]


async def test_info_live_offline_and_refused(stack: Stack) -> None:
    """`/live info` tells live from offline, and shows StreamAPI's refusal in words."""
    live = await stack.command("/live", f"info {ALICE}", VIEWER)
    assert "is live" in live["text"] and "alice" in text_of(live)
    fields = [f["text"] for f in live["blocks"][1]["fields"]]
    assert "*Chatting*\n3" in fields  # the live list's counters fill in /live info
    assert "*Viewers in all*\n12" in fields
    assert stack.streamapi.sessions[ALICE].private_hostid not in text_of(live)
    offline = await stack.command("/live", f"info {BOB}", VIEWER)
    assert "is not live" in offline["text"]
    unknown = await stack.command("/live", f"info {PARTNER_HOST}", VIEWER)
    assert unknown["text"] == ":x: StreamAPI said: No user found"
    bad = await stack.command("/live", "info alice", VIEWER)
    assert "`alice` is not a public host id" in bad["text"]
    assert len(stack.streamapi.calls) == 4  # the live host's info also reads the live list


async def test_create_gives_secrets_only_to_the_requester(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """`/live create`: the private id, key and RTMP URL go to the requester's DM only."""
    caplog.set_level(logging.DEBUG)
    reply = await stack.command("/live", "create carol2 --private", MEDIA_USER)
    (session,) = [s for s in stack.streamapi.sessions.values() if s.username == "carol2"]
    assert session.is_video_private is True
    assert session.fme_key and len(session.fme_key) == 12
    secrets = (session.private_hostid, session.fme_key)

    assert reply["response_type"] == "ephemeral" and "in your DM" in reply["text"]
    slack = stack.bot.slack
    (opened,) = slack.calls_to("conversations.open")
    assert opened["users"] == MEDIA_USER
    (dm,) = slack.calls_to("chat.postMessage")
    assert dm["channel"].startswith("D")
    text = text_of(dm)
    assert all(secret in text for secret in secrets)
    assert f"rtmp://fme.streamapi.com/hd_receiver/{session.public_hostid}-{session.fme_key}" in text

    await stack.reply_count(2)
    card = next(r for r in stack.replies() if r.get("response_type") == "in_channel")
    assert session.public_hostid in text_of(card) and f"<@{MEDIA_USER}>" in text_of(card)
    assert not any(secret in text_of(card) for secret in secrets)

    (event,) = stack.events("session.create")
    assert (event.outcome, event.target_id) == ("ok", session.public_hostid)
    assert event.params == {"username": "carol2", "private": True}
    for secret in secrets:
        assert secret not in repr(event)
        assert secret not in caplog.text
        for call in slack.calls:
            if call.payload is not dm and call.method != "response_url":
                assert secret not in repr(call.payload)


async def test_create_needs_the_role(stack: Stack) -> None:
    """A viewer's `/live create` is refused, audited, and never reaches StreamAPI."""
    reply = await stack.command("/live", "create mallory", VIEWER)
    assert "you need the *media* role" in reply["text"]
    assert stack.streamapi.calls == []
    (event,) = stack.events("session.create")
    assert (event.outcome, event.actor_id) == ("denied", VIEWER)


async def test_create_checks_the_username(stack: Stack) -> None:
    """A username StreamAPI would refuse is named before any call."""
    reply = await stack.command("/live", "create bad-name!", MEDIA_USER)
    assert "not a valid username" in reply["text"]
    assert stack.streamapi.calls == []


async def test_hostid_looks_up_both_ways(stack: Stack) -> None:
    """Private → public is open to all; public → private only to broadcasters, ephemerally."""
    private = stack.streamapi.sessions[ALICE].private_hostid
    to_public = await stack.command("/live", f"hostid {private}", VIEWER)
    assert ALICE in to_public["text"] and to_public["response_type"] == "ephemeral"

    refused = await stack.command("/live", f"hostid {ALICE}", VIEWER)
    assert "you need the *media* role" in refused["text"]
    assert private not in text_of(refused)

    to_private = await stack.command("/live", f"hostid {ALICE}", MEDIA_USER)
    assert private in text_of(to_private) and to_private["response_type"] == "ephemeral"
    assert paths(stack) == ["/host/id/public", "/host/id/private"]

    partner_private = stack.streamapi.sessions[PARTNER_HOST].private_hostid
    foreign = await stack.command("/live", f"hostid {partner_private}", VIEWER)
    assert foreign["text"] == (
        ":x: StreamAPI said: Cannot request this call for user that was not created by API caller"
    )


async def test_recordings_filter_by_host_and_dates(stack: Stack) -> None:
    """`/live recordings` lists own recordings newest first, filtered by host and dates."""
    every = await stack.command("/live", "recordings", VIEWER)
    names = [v.filename for v in stack.streamapi.videos if v.public_hostid != PARTNER_HOST]
    text = text_of(every)
    assert all(name in text for name in names)
    assert PARTNER_HOST not in text
    newest_first = sorted(
        (v for v in stack.streamapi.videos if v.public_hostid != PARTNER_HOST),
        key=lambda v: -v.created,
    )
    positions = [text.index(v.filename) for v in newest_first]
    assert positions == sorted(positions)

    recent = await stack.command("/live", f"recordings {ALICE} 36h", VIEWER)
    (latest,) = [
        v for v in stack.streamapi.videos if v.public_hostid == ALICE and v.duration == 65 * 60
    ]
    older = [v.filename for v in stack.streamapi.videos if v.public_hostid == ALICE]
    text = text_of(recent)
    assert latest.filename in text
    assert sum(name in text for name in older) == 1

    none = await stack.command("/live", "recordings 2020-01-01 2020-12-31", VIEWER)
    assert "No recordings match." in text_of(none)
    bad = await stack.command("/live", "recordings yesterday", VIEWER)
    assert "`yesterday` is not a date" in bad["text"]


async def test_themes_are_listed(stack: Stack) -> None:
    """`/live themes` lists every theme with its size."""
    reply = await stack.command("/live", "themes", VIEWER)
    text = text_of(reply)
    for name, size in (("Classic", "640×480"), ("Widescreen", "960×540"), ("Compact", "320×240")):
        assert name in text and size in text


async def test_live_help_lists_every_subcommand(stack: Stack) -> None:
    """`/live help` is answered in the ack with every subcommand's usage."""
    response = await stack.bot.command("/live", "help", user_id=VIEWER)
    for usage in (
        "list",
        "info <public_hostid>",
        "create [username] [--private]",
        "hostid <id>",
        "recordings [public_hostid] [since] [until]",
        "themes",
    ):
        assert f"/live {usage}" in html.unescape(response.text)  # as Slack shows it
    assert "<public_hostid>" not in response.text  # escaped, or Slack would hide it
