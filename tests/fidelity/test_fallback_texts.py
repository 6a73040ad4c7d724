"""Handler replies, fed a hostile provider title, carry no markup in ``text`` or blocks.

The renderers are covered by the property test; this drives the handlers' own
fallback ``text`` (what Slack shows in notifications and to screen readers)
through signed slash commands against the real app and the StreamStack simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.fidelity.hostile import mrkdwn_strings, unsolicited_markup
from tests.handlers.media_fixtures import MEDIA_USER, VIEWER, Stack, running_stack

HOSTILE_TITLE = "<!channel> launch <@U0EVIL> <https://evil.example|click> & `x`"


@pytest.fixture
async def stack(database: Database) -> AsyncIterator[Stack]:
    """The bot with the StreamStack simulator; one video carries a hostile title."""
    async with running_stack(database, streamapi=False) as running:
        yield running


@pytest.mark.parametrize(
    ("verb", "user"),
    [("info", VIEWER), ("stats", VIEWER), ("delete", MEDIA_USER)],
)
async def test_a_hostile_title_is_escaped_in_every_reply(
    stack: Stack, verb: str, user: str
) -> None:
    """`/media info|stats|delete` name the video; its title never becomes a ping or link."""
    video = stack.streamstack.seed_media("acme", HOSTILE_TITLE, at=1_000_000)
    reply = await stack.command("/media", f"{verb} {video.uuid}", user)
    assert "&lt;!channel&gt;" in reply["text"], reply["text"]
    assert unsolicited_markup(reply["text"]) == []
    simulator = "<http://127.0.0.1:"  # the simulator's player and HLS links, made on purpose
    for text in mrkdwn_strings(reply.get("blocks", [])):
        bad = [t for t in unsolicited_markup(text) if not t.startswith(simulator)]
        assert bad == [], text


async def test_a_typed_title_is_escaped_in_the_upload_reply(stack: Stack) -> None:
    """`/media upload` echoes the typed title escaped in its fallback text."""
    reply = await stack.command(
        "/media", f"upload https://videos.example.com/a.mp4 {HOSTILE_TITLE}", MEDIA_USER
    )
    assert "<!channel>" not in reply["text"]
    assert unsolicited_markup(reply["text"]) == []


HOSTILE_WORD = "<!channel>`x`<@U0EVIL>"


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/media", f"info {HOSTILE_WORD}"),
        ("/media", "list 9x<!here>"),
        ("/live", f"hostid {HOSTILE_WORD}"),
        ("/live", f"create {HOSTILE_WORD}"),
        ("/live", f"recordings 1000016132 {HOSTILE_WORD}"),
        ("/audit", f"since={HOSTILE_WORD}"),
        ("/audit", f"{HOSTILE_WORD}=1"),
        ("/streamops", f"roles grant {HOSTILE_WORD} releaser"),
        ("/streamops", f"freeze all for {HOSTILE_WORD}"),
        ("/streamops", f"subscribe <#C0TRUSTED> streamstack events={HOSTILE_WORD}"),
    ],
)
async def test_typed_words_echoed_in_a_refusal_are_escaped(
    stack: Stack, command: str, text: str
) -> None:
    """A usage error quotes what was typed: escaped, in a code span it cannot leave."""
    before = len(stack.replies())
    response = await stack.bot.command(command, text, user_id="UADMIN01")
    assert response.status_code == 200
    if response.text:  # answered in the ack
        said = response.json()["text"]
    else:
        said = (await stack.reply_count(before + 1))[before]["text"]
    assert "&lt;!" in said or "&lt;@" in said, said  # the typed words are quoted, escaped
    assert unsolicited_markup(said) == [], said
    for span in said.split("`")[1::2]:  # every code span holds no backtick-broken remains
        assert "<" not in span, said
