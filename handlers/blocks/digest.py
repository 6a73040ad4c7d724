"""A channel digest: many waiting notifications in one message (pure).

When a channel's backlog is more than Slack's pace (about one message per second per
channel) can carry within a few seconds, the delivery worker posts the waiting
notifications as one digest: a line per build or video with the state it reached and
links. Each build's/video's own message follows later, edited to its final state.

The digest stays inside Block Kit's limits (50 blocks, 3,000 characters per section,
a short fallback ``text``): lines are packed into sections, and what does not fit is
left for the next digest ("N more follow"), never dropped — the caller learns how many
entries were shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.notifications.digest import DigestEntry
from handlers.blocks.parts import (
    MESSAGE_BLOCK_LIMIT,
    SECTION_LIMIT,
    code,
    context,
    esc,
    link,
    section,
)

Blocks = list[dict[str, Any]]

#: The longest name or title shown on a digest line.
_NAME = 80
#: Blocks kept free for the header and the closing context.
_RESERVED = 2


def _clip(text: str | None, limit: int = _NAME) -> str:
    value = text or ""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _permalink(channel: str, ts: str) -> str:
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def digest_line(entry: DigestEntry, channel: str, status_of: Callable[[str], str]) -> str:
    """One entry: what it is, the state it reached, how many updates, links."""
    t = entry.timeline
    status = status_of(t.current().event)
    if t.provider == "streampixel":
        what = f"*Build* {code(_clip(t.subject))}"
        if t.project:
            what += f" of project {code(_clip(t.project))}"
        extra = link(t.file_url, "files") if t.file_url else ""
    elif t.provider == "streamstack":
        what = f"*{esc(_clip(t.title or 'Video'))}* {code(_clip(t.subject))}"
        extra = link(t.player_url, "player") if t.player_url else ""
    else:
        what = f"*{esc(_clip(t.title or 'Live session'))}* {code(_clip(t.subject.split('@')[0]))}"
        extra = ""
    line = f"• {what} → {status}"
    if entry.events > 1:
        line += f" ({entry.events} updates)"
    links = [extra] if extra else []
    if entry.message_ts:
        links.append(link(_permalink(channel, entry.message_ts), "message"))
    if links:
        line += " · " + " · ".join(links)
    return line


def digest_message(
    entries: Sequence[DigestEntry], channel: str, *, status_of: Callable[[str], str]
) -> tuple[str, Blocks, int]:
    """``(fallback text, blocks, entries shown)``: as many entries as Block Kit allows."""
    sections: list[str] = []
    current = ""
    shown = 0
    for entry in entries:
        line = digest_line(entry, channel, status_of)[: SECTION_LIMIT - 1]
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            if len(sections) + 1 >= MESSAGE_BLOCK_LIMIT - _RESERVED:
                break
            sections.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
        shown += 1
    if current:
        sections.append(current)
    events = sum(e.events for e in entries[:shown])
    noun = "update" if events == 1 else "updates"
    header = (
        f":zap: *Busy channel: {events} {noun} to {shown} "
        f"{'item' if shown == 1 else 'items'} at once.* "
        "Each one's own message follows, up to date, at Slack's pace."
    )
    blocks: Blocks = [section(header)]
    blocks.extend(section(text) for text in sections)
    rest = len(entries) - shown
    if rest:
        blocks.append(context(f"{rest} more follow in the next digest."))
    text = f"Busy channel: {events} {noun} to {shown} {'item' if shown == 1 else 'items'}"
    return text, blocks, shown
