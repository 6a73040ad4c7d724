"""Slack file objects read from payloads, and where the bot token may be sent."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.slack_files import files_of, first_video, token_may_go_to


def test_token_goes_only_to_slack_or_the_configured_api_host() -> None:
    """Slack's https hosts and the configured API's host pass; anything else does not."""
    api = "https://slack.com/api/"
    assert token_may_go_to("https://files.slack.com/files-pri/T1-F1/a.mp4", api)
    assert not token_may_go_to("http://files.slack.com/files-pri/T1-F1/a.mp4", api)
    assert not token_may_go_to("https://files.slack.com.evil.example/a.mp4", api)
    assert not token_may_go_to("https://evil.example/slack.com/a.mp4", api)
    assert not token_may_go_to("", api)
    sandbox = "http://127.0.0.1:8001/api/"
    assert token_may_go_to("http://127.0.0.1:9000/files-pri/T1-F1/a.mp4", sandbox)
    assert not token_may_go_to("http://localhost:9000/files-pri/T1-F1/a.mp4", sandbox)


def test_first_video_skips_other_files_and_malformed_entries() -> None:
    """A PDF and a broken entry are skipped; the video is found by MIME type or extension."""
    message = {
        "files": [
            {"id": "F1", "name": "notes.pdf", "mimetype": "application/pdf"},
            {"name": "no id"},
            {"id": "F3", "name": "cut.MOV", "mimetype": ""},
        ]
    }
    assert [f.id for f in files_of(message)] == ["F1", "F3"]
    assert first_video(message).id == "F3"
    with pytest.raises(UserFacingError, match="no video file"):
        first_video({"files": message["files"][:1]})
