"""The `/media` renderers: pure dicts within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.providers.streamstack_models import Embed, Media, MediaPage, PresignedUpload, VideoStats
from bot.services.media import Share
from handlers.blocks import media as render
from handlers.blocks.parts import bar, spend_button
from handlers.ids import MEDIA_DELETE, MEDIA_DETAILS

WHEN = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def _media(n: int = 1, **changes: object) -> Media:
    values: dict[str, object] = {
        "uuid": f"uuid-{n}",
        "title": f"Clip {n}",
        "status": "published",
        "duration": 125.0,
        "resolution": "1920x1080",
        "profiles": ("1080p", "720p"),
        "created_at": WHEN,
    }
    values.update(changes)
    return Media(**values)  # type: ignore[arg-type]


def _all_text(blocks: list[dict[str, object]]) -> str:
    return repr(blocks)


def test_list_item_is_rendered_exactly() -> None:
    """A one-video page renders the title, facts, uuid and a Details button, and no paging."""
    page = MediaPage(items=(_media(),), current_page=1, per_page=10, total=1, last_page=1)
    blocks = render.media_list(page)
    assert blocks[1] == {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Clip 1*\n:white_check_mark: published · 2:05 · 1920x1080 · added "
            "<!date^1793698200^{date_short_pretty}|2026-11-03 09:30 UTC>\n`uuid-1`",
        },
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Details", "emoji": True},
            "action_id": MEDIA_DETAILS,
            "value": "uuid-1",
        },
    }
    assert blocks[-1]["type"] == "context"
    assert "Page 1 of 1 · 1 videos" in blocks[-1]["elements"][0]["text"]


def test_middle_page_has_both_buttons_and_fits_limits() -> None:
    """Ten long-titled videos on page 2 of 3 stay within 50 blocks and 3000 characters."""
    items = tuple(_media(n, title="<b>" + "x" * 252) for n in range(10))
    page = MediaPage(items=items, current_page=2, per_page=10, total=25, last_page=3)
    blocks = render.media_list(page)
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "&lt;b&gt;" in _all_text(blocks) and "<b>" not in _all_text(blocks)
    nav = blocks[-1]["elements"]
    assert [(b["action_id"], b["value"]) for b in nav] == [
        (render.PAGE_PREVIOUS_ACTION, "1"),
        (render.PAGE_NEXT_ACTION, "3"),
    ]


def test_empty_list_says_so() -> None:
    """A tenant without videos gets a sentence, not an empty message."""
    page = MediaPage(items=(), current_page=1, per_page=10, total=0, last_page=1)
    assert "No videos yet." in _all_text(render.media_list(page))


def test_delete_prompt_names_the_video_and_confirms() -> None:
    """The delete prompt says what goes, and its button asks again in a danger dialog."""
    blocks = render.delete_prompt(_media(title="Launch"))
    assert "Delete *Launch* (`uuid-1`" in blocks[0]["text"]["text"]
    (delete,) = blocks[1]["elements"]
    assert delete["action_id"] == MEDIA_DELETE and delete["value"] == "uuid-1"
    assert delete["confirm"]["style"] == "danger"
    assert delete["confirm"]["title"]["text"] == "Delete this video?"
    assert len(delete["confirm"]["text"]["text"]) <= 300


def test_bar_and_breakdown_lines() -> None:
    """Bars fill in proportion (clamped), and breakdown lines align label, bar, percent, count."""
    assert bar(0) == "░" * 12
    assert bar(0.5) == "█" * 6 + "░" * 6
    assert bar(2) == "█" * 12
    lines = render.breakdown_lines([Share("1080p", 1500, 0.75), Share("720p", 500, 0.25)])
    assert lines == (
        "```\n1080p      █████████░░░  75.0%  1,500\n720p       ███░░░░░░░░░  25.0%  500\n```"
    )


def test_stats_at_a_glance() -> None:
    """Stats show headline numbers, a completion bar, breakdowns and flagged countries."""
    stats = VideoStats(
        uuid="uuid-1",
        period="30d",
        views=12_345,
        watching_now=4,
        avg_watch_time=205.4,
        completion_rate=62.5,
        quality={"1080p": 9000, "720p": 3345},
        devices={"desktop": 8000, "mobile": 4345},
        browsers={},
        geo={"IT": 6000, "US": 3000, "DE": 2000, "ES": 1000, "FR": 300, "PT": 45},
    )
    blocks = render.media_stats(stats, _media(title="Keynote"))
    text = _all_text(blocks)
    assert blocks[0]["text"]["text"] == "Stats · Keynote"
    assert blocks[2]["fields"][0]["text"] == "*Views*\n12,345"
    assert blocks[2]["fields"][2]["text"] == "*Average watch time*\n3m 25s"
    assert blocks[2]["fields"][3]["text"] == "*Completion*\n`██████░░░░` 62.5%"
    assert "*Quality*" in text and "*Devices*" in text
    assert "*Browsers*" not in text  # an empty breakdown is left out
    assert "🇮🇹 IT" in text
    assert "1 other" in text  # the sixth country is folded into "other"
    assert len(blocks) <= 50


def test_stats_without_views() -> None:
    """A video nobody watched says so instead of drawing empty charts."""
    stats = VideoStats("u", "7d", 0, 0, 0.0, 0.0)
    blocks = render.media_stats(stats)
    assert "No views in this period yet." in _all_text(blocks)


def test_presigned_reply_carries_method_headers_and_curl() -> None:
    """The presign reply has the URL, method, headers and a ready curl command."""
    upload = PresignedUpload(
        uuid="u1",
        upload_url="https://store.example/u1?token=abc",
        method="PUT",
        headers={"Content-Type": "video/mp4"},
        expires_in=3600,
    )
    text = _all_text(render.presigned(upload, "Keynote", "keynote.mp4"))
    assert "expires in 60 min" in text
    assert "Content-Type: video/mp4" in text
    assert 'curl -X PUT -H "Content-Type: video/mp4" --upload-file "keynote.mp4"' in text
    assert "https://store.example/u1?token=abc" in text


def test_embed_snippet_is_escaped_in_a_code_block() -> None:
    """The iframe is shown as text in a code block, escaped for mrkdwn."""
    embed = Embed(url="https://p/player/u1?autoplay=1", iframe='<iframe src="x"></iframe>')
    blocks = render.embed_snippet(_media(), embed)
    assert blocks[1]["text"]["text"] == '```\n&lt;iframe src="x"&gt;&lt;/iframe&gt;\n```'


def test_spend_button_keeps_the_rest_of_the_message() -> None:
    """Spending a button removes only it (and an emptied actions block) and adds the note."""
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi"},
         "accessory": {"type": "button", "action_id": MEDIA_DELETE, "value": "a"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": MEDIA_DETAILS, "value": "a"},
            {"type": "button", "action_id": MEDIA_DELETE, "value": "a"}]},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": MEDIA_DELETE, "value": "a"}]},
    ]  # fmt: skip
    spent = spend_button(blocks, MEDIA_DELETE, "done by <@U1>")
    assert spent == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": MEDIA_DETAILS, "value": "a"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "done by <@U1>"}]},
    ]  # fmt: skip
    assert "accessory" in blocks[0]  # the input is not modified


def test_stats_controls_switch_period_in_place_and_offer_a_chart() -> None:
    """The last block is a period menu (current period chosen, all ten offered) and Chart."""
    from bot.providers.streamstack_models import PERIODS
    from handlers.blocks.media import stats_controls
    from handlers.ids import MEDIA_STATS_CHART, MEDIA_STATS_PERIOD

    block = stats_controls("uuid-1", "30d")
    menu, chart = block["elements"]
    assert menu["action_id"] == MEDIA_STATS_PERIOD
    assert [o["value"] for o in menu["options"]] == [f"uuid-1|{p}" for p in PERIODS]
    assert menu["initial_option"]["value"] == "uuid-1|30d"
    assert (chart["action_id"], chart["value"]) == (MEDIA_STATS_CHART, "uuid-1|30d")
