"""Channel notifications for builds, videos, live sessions and webhook tests (pure).

Each function takes data and returns ``(text, blocks)``: ``text`` is the
notification fallback, ``blocks`` the Block Kit layout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.notifications.timeline import BROADCAST, Timeline
from handlers import ids

Blocks = list[dict[str, Any]]

_BUILD_STEPS = (
    ("build.uploaded", "uploaded"),
    ("build.downloading", "downloading"),
    ("build.extracting", "extracting"),
    ("build.saving", "saving"),
    ("build.distributing", "distributing"),
    ("build.approved", "approved"),
)
_MEDIA_STEPS = (
    ("media.uploaded", "uploaded"),
    ("media.transcoded", "transcoded"),
    ("media.published", "published"),
)
_STATUS = {
    "build.uploaded": ":inbox_tray: Uploaded",
    "build.downloading": ":arrow_down: Downloading files",
    "build.extracting": ":mag: Extracting & scanning",
    "build.saving": ":floppy_disk: Saving to repository",
    "build.distributing": ":rocket: Distributing to GPU workers",
    "build.approved": ":white_check_mark: Approved",
    "build.rejected": ":x: Rejected",
    "media.uploaded": ":inbox_tray: Uploaded",
    "media.transcoded": ":gear: Transcoded",
    "media.published": ":white_check_mark: Published",
    "media.failed": ":x: Transcoding failed",
    "live.started": ":red_circle: Live now",
    "live.ended": ":black_square_for_stop: Ended",
}
_MAX_SECTION = 2900


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so provider text cannot form Slack markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_MAX_SECTION]}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:_MAX_SECTION]}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def status_of(event: str) -> str:
    """The status line of a pipeline step."""
    return _STATUS.get(event, f":grey_question: `{escape(event)}`")


def _progress(timeline: Timeline, steps: tuple[tuple[str, str], ...]) -> str:
    seen = set(timeline.events())
    return " → ".join(f"*{label}*" if event in seen else f"_{label}_" for event, label in steps)


def pipeline_message(timeline: Timeline) -> tuple[str, Blocks]:
    """The one message of a build, video or live session, as it stands now."""
    if timeline.provider == "streampixel":
        return _build_message(timeline)
    if timeline.provider == "streamstack":
        return _media_message(timeline)
    return _live_message(timeline)


def _build_message(t: Timeline) -> tuple[str, Blocks]:
    current = t.current()
    project = escape(t.project or "?")
    status = status_of(current.event)
    if "build.approved" in t.events() and "build.distributing" in t.events():
        status = ":white_check_mark: Approved and distributed"
    title = f"Build `{escape(t.subject)}` in project `{project}`"
    blocks: Blocks = [_section(f"*{title}*\n{status}")]
    if current.event == "build.rejected":
        objection = escape(current.detail or "no reason given")
        blocks.append(_section(f"*Objection:*\n> {objection}"))
    else:
        blocks.append(_context(_progress(t, _BUILD_STEPS)))
    if t.awaiting_distribution():
        value = json.dumps({"project_id": t.project, "upload_id": t.subject})
        blocks.append(_context("Uploaded with autoRelease off: distribute it when ready."))
        blocks.append(
            {
                "type": "actions",
                "elements": [_button("Distribute", ids.BUILD_DISTRIBUTE, value, "primary")],
            }
        )
    return f"Build {t.subject} ({t.project}): {_plain(status)}", blocks


def _media_message(t: Timeline) -> tuple[str, Blocks]:
    current = t.current()
    name = escape(t.title) if t.title else "Video"
    status = status_of(current.event)
    lines = [f"*{name}* `{escape(t.subject)}`", status]
    if current.event == "media.published" and t.player_url:
        lines.append(f"<{escape(t.player_url)}|Open the player>")
    blocks: Blocks = [_section("\n".join(lines))]
    if current.event == "media.failed":
        blocks.append(_section(f"*Error:*\n> {escape(current.detail or 'no details given')}"))
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button("Delete", ids.MEDIA_DELETE, t.subject, "danger"),
                    _button("Details", ids.MEDIA_DETAILS, t.subject),
                ],
            }
        )
    else:
        blocks.append(_context(_progress(t, _MEDIA_STEPS)))
    return f"{t.title or 'Video'} ({t.subject}): {_plain(status)}", blocks


def _live_message(t: Timeline) -> tuple[str, Blocks]:
    current = t.current()
    name = escape(t.title) if t.title else "Live session"
    status = status_of(current.event)
    blocks: Blocks = [_section(f"*{name}* `{escape(t.subject)}`\n{status}")]
    return f"{t.title or 'Live session'} ({t.subject}): {_plain(status)}", blocks


def step_reply(notification: Mapping[str, Any]) -> tuple[str, bool]:
    """The thread reply for one step, and whether to broadcast it to the channel."""
    event = str(notification["event"])
    text = status_of(event)
    detail = notification.get("objection") or notification.get("error")
    if detail:
        text += f": {escape(str(detail))}"
    return text[:_MAX_SECTION], event in BROADCAST


def webhook_test_message(notification: Mapping[str, Any]) -> tuple[str, Blocks]:
    """The answer to ``webhook.test``: the webhook reaches us."""
    project = escape(str(notification.get("project") or "?"))
    when = escape(str(notification.get("timestamp") or ""))
    text = f":white_check_mark: The Streampixel webhook works: test event for project `{project}`"
    if when:
        text += f" (sent {when})"
    return _plain(text), [_section(text)]


def _plain(text: str) -> str:
    """``text`` without the leading emoji code, for notification fallbacks."""
    if text.startswith(":"):
        end = text.find(":", 1)
        if end != -1:
            return text[end + 1 :].strip()
    return text
