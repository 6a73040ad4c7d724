"""Modals for uploads (pure): a build by URL, a video by URL, a video file from Slack.

Each view carries a ``callback_id`` that routes its submission and names its
inputs by ``block_id``; :func:`view_values` reads a submission back into a flat
``{block_id: value}`` dict (strings, the selected option's value, or a list of
checked values).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from handlers.blocks.parts import Block, esc, plain
from handlers.ids import BUILD_UPLOAD_VIEW, MEDIA_SLACK_UPLOAD_VIEW, MEDIA_UPLOAD_VIEW

PROJECT = "project"
BUILD_URL = "build_url"
AUTO_RELEASE = "auto_release"
TITLE = "title"
VIDEO_URL = "video_url"
#: Slack shows at most 100 options in a static select.
MAX_OPTIONS = 100


def _input(block_id: str, label: str, element: Block, *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": {**element, "action_id": block_id},
    }


def _text(placeholder: str, *, initial: str = "", max_length: int = 3000) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "placeholder": plain(placeholder, 150),
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], meta: Any) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(meta, sort_keys=True),
        "blocks": blocks,
    }


def build_upload_modal(projects: Sequence[tuple[str, str]], channel_id: str) -> Block:
    """``/build upload`` as a form: a project picked by name, the build's URL, auto-release.

    Args:
        projects: ``(id, name)`` of each Streampixel project (the first 100 are offered).
        channel_id: where the result is posted.
    """
    options = [
        {"text": plain(name or project_id, 75), "value": project_id}
        for project_id, name in projects[:MAX_OPTIONS]
    ]
    project: Block = {"type": "static_select", "placeholder": plain("Choose a project", 150)}
    project["options"] = options or [{"text": plain("No projects", 75), "value": "-"}]
    blocks = [
        _input(PROJECT, "Project", project),
        _input(BUILD_URL, "Build URL (a .zip Streampixel can download)", _text("https://…")),
        _input(
            AUTO_RELEASE,
            "Release",
            {
                "type": "checkboxes",
                "options": [
                    {
                        "text": plain("Release automatically once approved", 75),
                        "value": "auto",
                    }
                ],
            },
            optional=True,
        ),
    ]
    return _modal(BUILD_UPLOAD_VIEW, "Upload a build", "Upload", blocks, {"channel": channel_id})


def media_upload_modal(channel_id: str) -> Block:
    """``/media upload`` as a form: a title and the video's public URL."""
    blocks = [
        _input(TITLE, "Title", _text("Launch trailer", max_length=255), optional=True),
        _input(VIDEO_URL, "Video URL (public https link)", _text("https://…/video.mp4")),
    ]
    return _modal(MEDIA_UPLOAD_VIEW, "Import a video", "Import", blocks, {"channel": channel_id})


def slack_file_modal(
    file_id: str,
    file_label: str,
    channel_id: str,
    thread_ts: str | None,
    *,
    details: dict[str, Any] | None = None,
) -> Block:
    """Ask for a title before a video file shared in Slack goes to StreamStack.

    Args:
        details: the file's fields the transfer needs back on submission (name, type,
            size, ``url_private``), kept in ``private_metadata`` under ``details``.
    """
    intro: Block = {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": f"*{esc(file_label)}* will be uploaded to StreamStack; progress is "
            "posted in a thread.",
        },
    }
    title = _input(TITLE, "Title", _text("Launch trailer", initial=file_label, max_length=255))
    meta: dict[str, Any] = {"file": file_id, "channel": channel_id, "thread_ts": thread_ts}
    if details is not None:
        meta["details"] = details
    return _modal(MEDIA_SLACK_UPLOAD_VIEW, "Upload to StreamStack", "Upload", [intro, title], meta)


def view_values(body: dict[str, Any]) -> dict[str, Any]:
    """A submission's values by ``block_id``: text, a selected option's value, or checked values."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    out: dict[str, Any] = {}
    for block_id, actions in values.items():
        for state in (actions or {}).values():
            if "selected_option" in state:
                option = state.get("selected_option") or {}
                out[block_id] = str(option.get("value") or "")
            elif "selected_options" in state:
                out[block_id] = [str(o.get("value")) for o in state.get("selected_options") or []]
            else:
                out[block_id] = str(state.get("value") or "").strip()
    return out


def view_metadata(body: dict[str, Any]) -> dict[str, Any]:
    """The view's ``private_metadata`` as a dict ({} when missing or not JSON)."""
    raw = (body.get("view") or {}).get("private_metadata") or ""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def errors(**by_block: str) -> dict[str, Any]:
    """``ack`` arguments that keep the modal open with a message under each named input."""
    return {
        "response_action": "errors",
        "errors": {block: message[:150] for block, message in by_block.items()},
    }
