"""The `/live` renderers: pure dicts; private ids only where the requester alone sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.providers.streamapi import LiveSession, Session, Theme, Video
from bot.services.live import CreatedSession, RecordingFilter
from handlers.blocks import live as render

START = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _session(**changes: object) -> LiveSession:
    values: dict[str, object] = {
        "public_hostid": "1000016132",
        "is_live": True,
        "private_hostid": "PRIVATE0SECRET",
        "username": "alice",
        "start_time": START,
        "duration": timedelta(minutes=30),
        "current_viewers": 12,
        "current_chatters": 3,
    }
    values.update(changes)
    return LiveSession(**values)  # type: ignore[arg-type]


def test_live_list_never_shows_private_ids() -> None:
    """Each live session is one line with audience and duration, without its private id."""
    blocks = render.live_list([_session(), _session(public_hostid="1000016140", username=None)])
    assert blocks[1]["text"]["text"] == (
        ":red_circle: *alice* · host `1000016132`\n12 watching · 3 chatting · live for 30:00"
    )
    assert "*unnamed*" in blocks[2]["text"]["text"]
    assert "PRIVATE0SECRET" not in repr(blocks)


def test_empty_live_list_explains_the_delay() -> None:
    """With nobody live, the reply says so and mentions StreamAPI's listing delay."""
    text = repr(render.live_list([]))
    assert "Nobody is live right now." in text and "up to a minute" in text


def test_live_info_live_and_offline() -> None:
    """A live host shows its fields; an offline host one sentence; neither its private id."""
    live = render.live_info(_session())
    assert live[1]["fields"][2]["text"] == "*Watching*\n12"
    offline = render.live_info(LiveSession(public_hostid="1000016133", is_live=False))
    assert offline == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": ":black_circle: Host `1000016133` is not live."},
        }
    ]
    assert "PRIVATE0SECRET" not in repr(live)


def test_created_session_shows_ids_key_and_encoder_url() -> None:
    """The requester-only reply carries both ids, the key and the encoder URL."""
    created = CreatedSession(
        Session("PRIV123", "1000000005", encoder_url="rtmp://fme/hd/1000000005-abc123"),
        encoder_key="abc123",
        private=True,
        username="dana",
    )
    blocks = render.created_session(created)
    assert "New private (signed-in viewers only) live session for *dana*" in repr(blocks)
    assert [f["text"] for f in blocks[1]["fields"]] == [
        "*Public host id* (for viewers)\n`1000000005`",
        "*Private host id* (for the broadcaster)\n`PRIV123`",
        "*Encoder key*\n`abc123`",
    ]
    assert blocks[2]["text"]["text"] == "*Encoder URL*\n```\nrtmp://fme/hd/1000000005-abc123\n```"


def test_recordings_show_twenty_a_page() -> None:
    """More than twenty recordings show the newest twenty, the page count and a Next button."""
    videos = [
        Video(
            id=str(n),
            creation_date=START - timedelta(days=n),
            public_hostid="1000016132",
            duration=timedelta(seconds=600),
            filename=f"rec{n}.flv",
            size=37_500_000,
            url=f"http://v/rec{n}.flv",
        )
        for n in range(25)
    ]
    blocks = render.recordings(videos, RecordingFilter(public_hostid="1000016132"))
    assert len(blocks) == 2 + 20 + 2
    assert blocks[2]["text"]["text"].startswith("*<http://v/rec0.flv|rec0.flv>*\n")
    assert "10:00 · 37.5 MB" in blocks[2]["text"]["text"]
    assert blocks[-2]["elements"][0]["text"] == "Page 1 of 2 · 25 recordings"
    assert [e["text"]["text"] for e in blocks[-1]["elements"]] == ["Next ▶"]
    assert blocks[1]["elements"][0]["text"] == "host `1000016132`"


def test_themes_list() -> None:
    """Themes are listed with id and size, or "any size" when unknown."""
    blocks = render.themes([Theme("7", "Classic", 640, 480), Theme("9", "Free")])
    assert blocks[1]["text"]["text"] == (
        "• *Classic* (id `7`) · 640×480\n• *Free* (id `9`) · any size"
    )


def test_recordings_page_through_all_of_them_and_stop_at_the_end() -> None:
    """45 recordings: 3 pages of at most 20; the last has Previous only; past it, the last."""
    from datetime import UTC, datetime, timedelta

    from bot.providers.streamapi_models import Video
    from bot.services.live import RecordingFilter
    from handlers.blocks.live import recordings
    from handlers.live import recordings_request

    start = datetime(2026, 11, 1, tzinfo=UTC)
    videos = [Video(str(n), start + timedelta(hours=n), filename=f"r{n}.mp4") for n in range(45)]
    wanted = RecordingFilter("1000016132", start, start + timedelta(days=7))

    def nav(blocks: list[dict[str, object]]) -> dict[str, int]:
        elements = blocks[-1]["elements"]
        assert isinstance(elements, list)
        return {e["text"]["text"]: recordings_request(e["value"])[1] for e in elements}

    first = recordings(videos, wanted)
    assert sum(b["type"] == "section" for b in first) == 20
    assert nav(first) == {"Next ▶": 2}
    last = recordings(videos, wanted, 3)
    assert sum(b["type"] == "section" for b in last) == 5
    assert nav(last) == {"◀ Previous": 2}
    assert recordings(videos, wanted, 99) == last
    value = last[-1]["elements"][0]["value"]
    assert recordings_request(value)[0] == wanted
