"""Upload modals as data: ids, options, limits, and reading a submission back."""

from __future__ import annotations

import json

from handlers.blocks import upload_modals as modals
from handlers.ids import BUILD_UPLOAD_VIEW, MEDIA_SLACK_UPLOAD_VIEW


def test_build_upload_modal_offers_projects_by_name_at_most_100() -> None:
    """The project select lists names (values: ids), capped at Slack's 100 options."""
    projects = [(f"{n:024x}", f"Project {n}") for n in range(150)]
    view = modals.build_upload_modal(projects, "C1")
    assert view["callback_id"] == BUILD_UPLOAD_VIEW
    select = view["blocks"][0]["element"]
    assert len(select["options"]) == 100
    assert select["options"][1] == {
        "text": {"type": "plain_text", "text": "Project 1", "emoji": True},
        "value": f"{1:024x}",
    }
    assert json.loads(view["private_metadata"]) == {"channel": "C1"}
    assert [b["block_id"] for b in view["blocks"]] == ["project", "build_url", "auto_release"]


def test_slack_file_modal_escapes_the_file_name_and_keeps_the_thread() -> None:
    """A hostile file name is escaped in mrkdwn; the metadata says where progress goes."""
    view = modals.slack_file_modal("F1", "<!channel> & co.mp4", "C1", "1700000000.000100")
    assert view["callback_id"] == MEDIA_SLACK_UPLOAD_VIEW
    assert "&lt;!channel&gt; &amp; co.mp4" in view["blocks"][0]["text"]["text"]
    assert json.loads(view["private_metadata"]) == {
        "channel": "C1",
        "file": "F1",
        "thread_ts": "1700000000.000100",
    }


def test_view_values_reads_text_select_and_checkboxes() -> None:
    """Text inputs come back stripped, a select as its value, checkboxes as a list."""
    body = {
        "view": {
            "state": {
                "values": {
                    "project": {"project": {"selected_option": {"value": "p1"}}},
                    "build_url": {"build_url": {"value": "  https://x/b.zip "}},
                    "auto_release": {"auto_release": {"selected_options": [{"value": "auto"}]}},
                }
            }
        }
    }
    assert modals.view_values(body) == {
        "project": "p1",
        "build_url": "https://x/b.zip",
        "auto_release": ["auto"],
    }
    assert modals.errors(build_url="x" * 500)["errors"]["build_url"] == "x" * 150
