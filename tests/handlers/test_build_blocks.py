"""Build renderers: exact confirm dialogs, Slack's limits, pagination."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.providers.streampixel import Project, UserStats
from bot.services.builds import ProjectLine
from handlers.blocks import builds as blocks
from storage.builds import Build

PROJECT = Project("664f1a2b3c4d5e6f7a8b9c0d", "Showroom <Demo>", True, "active")
AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_distribute_offer_carries_a_confirm_dialog_naming_the_build() -> None:
    """The Distribute button's value is the webhook shape and its dialog says what happens."""
    [section, actions] = blocks.run_offer("distribute", PROJECT, "665a")
    assert section["text"]["text"] == (
        "Distribute build `665a` of *Showroom &lt;Demo&gt;* (`664f1a2b3c4d5e6f7a8b9c0d`)?"
    )
    assert actions["elements"] == [
        {
            "type": "button",
            "action_id": "build_distribute",
            "text": {"type": "plain_text", "text": "Distribute", "emoji": True},
            "value": '{"project_id":"664f1a2b3c4d5e6f7a8b9c0d","upload_id":"665a"}',
            "style": "primary",
            "confirm": {
                "title": {"type": "plain_text", "text": "Distribute this build?", "emoji": True},
                "text": {
                    "type": "plain_text",
                    "text": "Streampixel will release build 665a of Showroom <Demo> to the "
                    "project's streaming servers.",
                    "emoji": True,
                },
                "confirm": {"type": "plain_text", "text": "Distribute", "emoji": True},
                "deny": {"type": "plain_text", "text": "Cancel", "emoji": True},
                "style": "primary",
            },
        }
    ]


def test_projects_overview_stays_within_fifty_blocks() -> None:
    """Hundreds of projects render as at most 50 blocks, saying how many were left out."""
    lines = [
        ProjectLine(Project(f"id{i}", f"P{i}", True, "active"), UserStats(i, 0)) for i in range(120)
    ]
    rendered = blocks.projects_overview(lines)
    assert len(rendered) == 50
    assert rendered[-1]["elements"][0]["text"] == "…and 72 more projects not shown."


def test_builds_page_has_previous_and_next_in_the_middle() -> None:
    """A middle page offers both directions with the page numbers in the values."""
    build = Build(PROJECT.id, "u1", None, None, None, AT, "Approved", AT, None)
    rendered = blocks.builds_page(PROJECT, [build], page=2, total=25)
    nav = rendered[-1]["elements"]
    assert [(b["text"]["text"], json.loads(b["value"])["page"]) for b in nav] == [
        ("Previous", 1),
        ("Next", 3),
    ]
    assert "Page 2 of 3 · 25 builds" in rendered[-2]["elements"][0]["text"]


def test_slot_busy_offers_a_queue_button_for_the_opening_time() -> None:
    """The busy message names the time and its button queues that exact build."""
    rendered = blocks.slot_busy("rollback", "p1", "u1", AT)
    [button] = rendered[1]["elements"]
    assert button["text"]["text"] == "Queue for 12:00 UTC"
    assert json.loads(button["value"]) == {
        "action": "rollback",
        "project_id": "p1",
        "upload_id": "u1",
    }
    assert "<!date^1777636800^" in rendered[0]["text"]["text"]
