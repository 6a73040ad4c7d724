"""A ``build.distributing`` webhook makes its build the project's live one (release timeline)."""

from __future__ import annotations

import json

from storage.timeline import VIA_PROVIDER, TimelineStore
from tests.harness import Bot

TOKEN = "webhook-token-0123456789"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"


def _event(event: str, status: str, upload_id: str, ts: str) -> bytes:
    return json.dumps(
        {
            "event": event,
            "projectId": PROJECT,
            "uploadId": upload_id,
            "fileUrl": f"https://bucket.example/builds/{upload_id}.zip",
            "status": status,
            "objection": None,
            "timestamp": ts,
        }
    ).encode()


async def post(bot: Bot, body: bytes) -> int:
    """POST one Streampixel webhook; its HTTP status."""
    response = await bot.http.post(
        f"{bot.url}/webhooks/streampixel/{TOKEN}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    return response.status_code


async def test_distributing_webhooks_move_the_live_mark_and_replays_change_nothing(
    bot: Bot,
) -> None:
    """A then B distributing: B is live, A previous; a replayed A (same event) is ignored."""
    first = _event("build.distributing", "Distribute", "A", "2026-11-26T10:00:00Z")
    assert await post(bot, _event("build.approved", "Approved", "A", "2026-11-26T09:59:00Z")) == 200
    assert await post(bot, first) == 200
    assert (
        await post(bot, _event("build.distributing", "Distribute", "B", "2026-11-26T11:00:00Z"))
        == 200
    )
    assert await post(bot, first) == 200  # a replay: deduplicated at intake
    state = await TimelineStore(bot.container.db).live_state(PROJECT)
    assert state.current is not None and state.previous is not None
    assert (state.current.upload_id, state.current.by, state.current.via) == (
        "B",
        None,
        VIA_PROVIDER,
    )
    assert state.previous.upload_id == "A"
    assert await TimelineStore(bot.container.db).stamps(PROJECT, "A") == []
