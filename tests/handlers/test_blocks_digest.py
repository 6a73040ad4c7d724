"""The channel digest renderer: escaped, linked, within Block Kit's limits (pure)."""

from __future__ import annotations

import json

from bot.notifications.digest import digest_entries
from bot.notifications.types import Notice
from bot.sandbox.slack_limits import message_errors
from handlers.blocks.notifications import NOTIFICATIONS, steps_reply


def _notice(event: str, subject: str, **fields: str) -> Notice:
    return Notice(provider="streamstack", event=event, subject=subject, **fields)  # type: ignore[arg-type]


def test_a_digest_line_escapes_provider_text_and_links_the_message() -> None:
    """A hostile title cannot mention the channel; the item links to its own message."""
    entries = digest_entries(
        [
            ("streamstack:v1", _notice("media.uploaded", "v1", title="<!channel> *x*")),
            ("streamstack:v1", _notice("media.published", "v1", player_url="https://p.example/1")),
        ],
        {"streamstack:v1": "1700000000.000100"},
    )
    text, blocks, shown = NOTIFICATIONS.digest(entries, "C1")
    body = json.dumps(blocks)
    assert shown == 1
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "<https://p.example/1|player>" in body
    assert "https://slack.com/archives/C1/p1700000000000100" in body
    assert "(2 updates)" in body and "Published" in body
    assert message_errors({"channel": "C1", "text": text, "blocks": blocks}) is None


def test_a_huge_digest_shows_what_fits_and_says_how_many_follow() -> None:
    """5,000 items: at most 50 blocks, sections within 3,000 characters, the rest counted."""
    entries = digest_entries(
        (f"streamstack:v{i}", _notice("media.transcoded", f"v{i}", title="t" * 200))
        for i in range(5000)
    )
    text, blocks, shown = NOTIFICATIONS.digest(entries, "C1")
    assert 0 < shown < 5000
    assert len(blocks) <= 50
    assert f"{5000 - shown} more follow in the next digest" in json.dumps(blocks)
    assert message_errors({"channel": "C1", "text": text, "blocks": blocks}) is None


def test_steps_said_together_are_one_reply_of_one_line_each() -> None:
    """Three steps, one reply; an error's detail is escaped."""
    reply = steps_reply(
        [
            _notice("media.uploaded", "v1"),
            _notice("media.transcoded", "v1"),
            _notice("media.failed", "v1", error="<@U123> broke"),
        ]
    )
    assert reply.splitlines() == [
        ":inbox_tray: Uploaded",
        ":gear: Transcoded",
        ":x: Transcoding failed: &lt;@U123&gt; broke",
    ]
