"""Notification renderers: what a channel reader sees for a live session."""

from __future__ import annotations

from bot.notifications.timeline import Step, Timeline
from handlers.blocks.notifications import pipeline_message


def test_live_session_message_names_the_public_host_not_the_internal_key() -> None:
    """A went-live message shows the broadcaster and public host id, and how to learn more."""
    timeline = Timeline(
        provider="streamapi",
        subject="1000016132@1795707653",
        title="alice",
        steps=[Step(event="live.started")],
    )
    text, blocks = pipeline_message(timeline)
    assert blocks[0]["text"]["text"] == "*alice* · public host `1000016132`\n:red_circle: Live now"
    assert blocks[1]["elements"][0]["text"] == "`/live info 1000016132` for viewers and duration"
    assert "@1795707653" not in blocks[0]["text"]["text"]
    assert text == "alice (host 1000016132): Live now"
