"""Streampixel pipeline webhooks keep the bot's list of known builds current."""

from __future__ import annotations

import json

from storage.builds import BuildStore
from tests.harness import Bot

TOKEN = "webhook-token-0123456789"


def _event(event: str, status: str, ts: str, objection: str | None = None) -> bytes:
    return json.dumps(
        {
            "event": event,
            "projectId": "664f1a2b3c4d5e6f7a8b9c0d",
            "uploadId": "665a2b3c4d5e6f7a8b9c0e20",
            "fileUrl": "https://bucket.example/builds/v1.zip",
            "status": status,
            "objection": objection,
            "timestamp": ts,
        }
    ).encode()


async def test_pipeline_events_update_the_known_build(bot: Bot) -> None:
    """uploaded then rejected leaves the build known with status Reject and its objection."""
    url = f"{bot.url}/webhooks/streampixel/{TOKEN}"
    headers = {"Content-Type": "application/json"}
    first = await bot.http.post(
        url, content=_event("build.uploaded", "pending", "2026-11-26T10:00:00Z"), headers=headers
    )
    second = await bot.http.post(
        url,
        content=_event("build.rejected", "Reject", "2026-11-26T10:05:00Z", "bad format"),
        headers=headers,
    )
    assert first.status_code == second.status_code == 200
    builds = await BuildStore(bot.container.db).builds_for("664f1a2b3c4d5e6f7a8b9c0d")
    assert [(b.upload_id, b.last_status, b.objection) for b in builds] == [
        ("665a2b3c4d5e6f7a8b9c0e20", "Reject", "bad format")
    ]


async def test_an_older_event_arriving_late_does_not_overwrite_a_newer_status(bot: Bot) -> None:
    """Webhooks can arrive out of order: the build keeps the status of the newest event."""
    url = f"{bot.url}/webhooks/streampixel/{TOKEN}"
    headers = {"Content-Type": "application/json"}
    await bot.http.post(
        url,
        content=_event("build.rejected", "Reject", "2026-11-26T10:05:00Z", "bad format"),
        headers=headers,
    )
    await bot.http.post(
        url, content=_event("build.uploaded", "pending", "2026-11-26T10:00:00Z"), headers=headers
    )
    builds = await BuildStore(bot.container.db).builds_for("664f1a2b3c4d5e6f7a8b9c0d")
    assert [(b.last_status, b.objection, b.file_url) for b in builds] == [
        ("Reject", "bad format", "https://bucket.example/builds/v1.zip")
    ]
