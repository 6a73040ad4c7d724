"""Small pure Block Kit pieces and formatters shared by every renderer in :mod:`handlers.blocks`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

# Re-exported: the renderers take the escaping helpers from here.
from bot.mrkdwn import code as code
from bot.mrkdwn import code_block as code_block
from bot.mrkdwn import esc as esc

Block = dict[str, Any]

SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
BUTTON_TEXT_LIMIT = 75
MESSAGE_BLOCK_LIMIT = 50
#: Shown for an empty text: Slack refuses a text object without text.
EMPTY = "—"


def link(url: object, label: str) -> str:
    """A mrkdwn link to an ``http(s)`` ``url`` showing ``label``; just the label otherwise.

    A URL carrying whitespace, ``<``, ``>`` or ``|`` (which would end the link or
    change its label) is not linked.
    """
    target = str(url or "")
    safe = target.startswith(("https://", "http://")) and not any(c in target for c in "<>| \t\r\n")
    return f"<{esc(target)}|{esc(label)}>" if safe else esc(label)


_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,20}")


def mention(user_id: object) -> str:
    """``<@U…>`` for a Slack user id (a mention the bot means); anything else as escaped text."""
    text = str(user_id)
    return f"<@{text}>" if _USER_ID.fullmatch(text) else esc(text)


def channel_ref(channel_id: object) -> str:
    """``<#C…>`` for a Slack channel id; anything else as escaped text."""
    text = str(channel_id)
    return f"<#{text}>" if _CHANNEL_ID.fullmatch(text) else esc(text)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, str]:
    """A mrkdwn text object (clipped to a section's limit)."""
    return {"type": "mrkdwn", "text": clip(text or EMPTY, SECTION_LIMIT)}


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A plain_text text object with emoji."""
    return {"type": "plain_text", "text": clip(text or EMPTY, limit), "emoji": True}


def header(text: str) -> Block:
    """A header block (150 characters at most)."""
    return {"type": "header", "text": plain(text, 150)}


def section(text: str, *, fields: Iterable[str] = (), accessory: Block | None = None) -> Block:
    """A mrkdwn section, with up to 10 fields and an optional accessory."""
    block: Block = {"type": "section", "text": mrkdwn(text)}
    field_list = [{"type": "mrkdwn", "text": clip(f or EMPTY, FIELD_LIMIT)} for f in fields][:10]
    if field_list:
        block["fields"] = field_list
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields_section(fields: Iterable[str]) -> Block:
    """A section made only of fields (up to 10; Slack refuses an empty list)."""
    field_list = [{"type": "mrkdwn", "text": clip(f or EMPTY, FIELD_LIMIT)} for f in fields][:10]
    if not field_list:
        return {"type": "section", "text": mrkdwn(EMPTY)}
    return {"type": "section", "fields": field_list}


def context(*texts: str) -> Block:
    """A context block of mrkdwn texts (up to 10)."""
    return {"type": "context", "elements": [mrkdwn(t) for t in texts][:10]}


def divider() -> Block:
    """A divider."""
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    """A button element (text clipped to 75 characters)."""
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, *, style: str | None = None) -> Block:
    """A confirmation dialog object (Slack's own limits: 100/300/30 characters).

    Args:
        title: the dialog's title.
        text: what will happen.
        yes: the confirm button's label (the deny button says "Cancel").
        style: the confirm button's style, ``"primary"`` or ``"danger"``.
    """
    dialog: Block = {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain("Cancel", 30),
    }
    if style:
        dialog["style"] = style
    return dialog


def actions(*elements: Block, block_id: str | None = None) -> Block:
    """An actions block (up to 25 elements)."""
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def slack_date(moment: datetime | None, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token: shown in each reader's own time zone, UTC as the fallback."""
    if moment is None:
        return "—"
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def duration_text(seconds: float | timedelta | None) -> str:
    """``1:02:03`` / ``4:05`` for a duration, ``—`` when unknown."""
    if seconds is None:
        return "—"
    total = int(seconds.total_seconds() if isinstance(seconds, timedelta) else seconds)
    hours, rest = divmod(max(0, total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size_text(size: int | None) -> str:
    """A byte count in KB/MB/GB (decimal units), ``—`` when unknown."""
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def number(n: int) -> str:
    """``12,345``."""
    return f"{n:,}"


def bar(fraction: float, width: int = 12) -> str:
    """A text bar such as ``█████░░░░░░░`` for a fraction between 0 and 1."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def spend_button(blocks: list[Block], action_id: str, note: str) -> list[Block]:
    """``blocks`` without the button ``action_id`` and with ``note`` appended as context.

    Used when a one-shot button has been used: the message keeps its content,
    loses the spent button (and any actions block it leaves empty), and says
    who did what. Other buttons stay.
    """
    kept: list[Block] = []
    for block in blocks:
        block = dict(block)
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("action_id") == action_id:
            del block["accessory"]
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("action_id") != action_id]
            if not elements:
                continue
            block["elements"] = elements
        kept.append(block)
    kept = kept[: MESSAGE_BLOCK_LIMIT - 1]
    kept.append(context(note))
    return kept
