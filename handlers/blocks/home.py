"""The App Home view."""

from __future__ import annotations

from typing import Any

from handlers.blocks.parts import context, header, section

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
            header("StreamOps"),
            section(lines),
            context("Type `/streamops help` for every subcommand."),
        ],
    }
