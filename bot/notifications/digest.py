"""What a channel digest shows: each build or video that changed, and to what state.

The delivery worker builds the entries from the notifications still waiting for a
channel (:func:`digest_entries`); ``handlers.blocks.digest`` renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.notifications.timeline import Timeline
from bot.notifications.types import Notice


@dataclass(frozen=True)
class DigestEntry:
    """One build/video/live session in a digest.

    Attributes:
        key: its subject key (``provider:subject``).
        timeline: its waiting notifications applied in order (the state it reaches).
        events: how many waiting notifications it carries.
        message_ts: the ``ts`` of its own message in the channel, if it has one yet.
    """

    key: str
    timeline: Timeline
    events: int
    message_ts: str | None = None


def digest_entries(
    notices: Iterable[tuple[str, Notice]], message_ts: Mapping[str, str] | None = None
) -> list[DigestEntry]:
    """One entry per subject key, in order of first appearance."""
    timelines: dict[str, Timeline] = {}
    counts: dict[str, int] = {}
    for key, notice in notices:
        timeline = timelines.setdefault(key, Timeline.start(notice))
        timeline.apply(notice)
        counts[key] = counts.get(key, 0) + 1
    known = message_ts or {}
    return [DigestEntry(key, t, counts[key], known.get(key)) for key, t in timelines.items()]
