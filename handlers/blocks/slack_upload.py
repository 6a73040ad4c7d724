"""What the upload of a Slack file to StreamStack says (pure): the DM offer and the thread reply."""

from __future__ import annotations

import json

from bot.slack_files import SlackFile
from handlers.blocks.parts import Block, button, code, esc, section
from handlers.ids import MEDIA_SLACK_UPLOAD_OFFER

#: Slack's limit on a button's value.
MAX_VALUE = 2000


def file_details(file: SlackFile) -> dict[str, object]:
    """The fields of ``file`` the transfer needs, as carried by a modal or a button."""
    return file.model_dump(include={"id", "name", "title", "mimetype", "size", "url_private"})


def offer_value(file: SlackFile, message_ts: str) -> str | None:
    """The DM button's value (the file and the message to thread under), None if too long."""
    value = json.dumps({"file": file_details(file), "ts": message_ts}, sort_keys=True)
    return value if len(value) <= MAX_VALUE else None


def dm_offer(file: SlackFile, message_ts: str) -> tuple[str, list[Block]]:
    """The answer to a video sent to the bot in a DM: an *Upload to StreamStack* button."""
    label = esc(file.label)
    value = offer_value(file, message_ts)
    if value is None:
        text = f":warning: I cannot offer *{label}* for upload: Slack's link to it is too long."
        return text, [section(text)]
    text = f":movie_camera: *{label}* can go to StreamStack. Pick a title and I stream it there."
    return text, [
        section(text, accessory=button("Upload to StreamStack", MEDIA_SLACK_UPLOAD_OFFER, value))
    ]


def dm_not_video(names: list[str]) -> str:
    """The answer to files sent in a DM of which none is a video."""
    listed = ", ".join(f"*{esc(n)}*" for n in names[:5]) or "that file"
    return (
        f":information_source: {listed} is not a video. Send me a video file (.mp4, .mov, .webm…) "
        "and I offer to upload it to StreamStack."
    )


def progress_text(user_id: str, file: SlackFile, sent: int, total: int | None) -> str:
    """The thread reply while bytes move: who, which file, how far."""
    head = f":arrow_up: <@{user_id}> is uploading *{esc(file.label)}* to StreamStack…"
    if total:
        percent = min(100, sent * 100 // total)
        return f"{head} {percent}% ({_mb(sent)} of {_mb(total)})"
    return f"{head} {_mb(sent)} so far" if sent else f"{head} 0%"


def done_text(user_id: str, title: str, uuid: str, size: int) -> str:
    """The thread reply once StreamStack has the whole file."""
    return (
        f":white_check_mark: Uploaded to StreamStack as {code(uuid)} ({_mb(size)}, "
        f"title *{esc(title)}*, by <@{user_id}>); transcoding … StreamStack's notifications "
        "follow in the channel."
    )


def failed_text(file: SlackFile, reason: str) -> str:
    """The thread reply when the upload did not happen or broke off (``reason`` in words)."""
    return f":x: Uploading *{esc(file.label)}* to StreamStack failed: {esc(reason)}"


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"
