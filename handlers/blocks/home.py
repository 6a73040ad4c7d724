"""The App Home view."""

from __future__ import annotations

from typing import Any

COMMANDS = (
    ("/build", "Streampixel builds: projects, upload, distribute, rollback"),
    ("/media", "StreamStack videos: list, info, stats, upload, delete, embed"),
    ("/live", "StreamAPI live sessions: list, info, create, recordings, themes"),
    ("/audit", "Who distributed or deleted what (admins)"),
    ("/streamops", "Help, roles, subscriptions and webhook events"),
)


def home_view() -> dict[str, Any]:
    """The Home tab: one line per slash command."""
    lines = "\n".join(f"*{cmd}*  {what}" for cmd, what in COMMANDS)
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "StreamOps"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "Type `/streamops help` for every subcommand."}
                ],
            },
        ],
    }
