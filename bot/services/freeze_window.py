"""Read a freeze's time window from command words: ``for 2h``, ``until 2026-12-24T18:00Z``.

Grammar (words as the slash command splits them)::

    [from <ISO time>] (for <duration> | until <ISO time>) <reason…>

A duration is one or more ``<number><unit>`` parts with units ``m``, ``h``,
``d`` or ``w`` (``90m``, ``2h``, ``1h30m``, ``3d``). An ISO time may end in
``Z`` or an offset; without one it is UTC; a bare date means its midnight UTC.
Every problem raises :class:`~bot.errors.InvalidInput` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.errors import InvalidInput
from bot.mrkdwn import code

#: The longest freeze one command may set.
MAX_FREEZE = timedelta(days=90)

_PART = re.compile(r"(\d{1,5})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WINDOW_USAGE = "`for <duration>` (e.g. `for 2h`, `for 1h30m`, `for 3d`) or `until <ISO time>`"


@dataclass(frozen=True)
class Window:
    """A freeze window and the words after it (the reason)."""

    starts_at: datetime
    ends_at: datetime
    rest: list[str]


def parse_duration(text: str) -> timedelta:
    """``2h``, ``90m``, ``1h30m``, ``3d``, ``1w`` as a timedelta.

    Raises:
        InvalidInput: not a duration, or zero.
    """
    cleaned = text.strip().lower()
    if not cleaned or _PART.sub("", cleaned):
        raise InvalidInput(
            f"{code(text)} is not a duration; write e.g. `2h`, `90m`, `1h30m` or `3d`"
        )
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    if total <= timedelta():
        raise InvalidInput(f"{code(text)} is no time at all; give a duration longer than zero")
    return total


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``2026-12-24T18:00Z``, ``…+01:00``, ``2026-12-24``) in UTC.

    Raises:
        InvalidInput: not an ISO time.
    """
    raw = text.strip()
    candidate = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise InvalidInput(
            f"{code(text)} is not a time; write it as ISO 8601, e.g. `2026-12-24T18:00Z`"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_window(words: list[str], now: datetime) -> Window:
    """The window at the start of ``words`` (see the module docstring), checked against ``now``.

    Raises:
        InvalidInput: a missing or malformed window, an end in the past or before
            the start, or a window longer than :data:`MAX_FREEZE`.
    """
    rest = list(words)
    starts_at = now
    if rest and rest[0].lower() == "from":
        if len(rest) < 2:
            raise InvalidInput("`from` needs a time, e.g. `from 2026-12-24T08:00Z`")
        starts_at = parse_time(rest[1])
        rest = rest[2:]
    if len(rest) < 2 or rest[0].lower() not in ("for", "until"):
        raise InvalidInput(f"say how long the freeze lasts: {WINDOW_USAGE}")
    keyword, value, rest = rest[0].lower(), rest[1], rest[2:]
    start = max(starts_at, now)
    ends_at = start + parse_duration(value) if keyword == "for" else parse_time(value)
    if ends_at <= now:
        raise InvalidInput(
            f"{code(value)} is in the past ({ends_at:%Y-%m-%d %H:%M} UTC); a freeze must end later"
        )
    if ends_at <= starts_at:
        raise InvalidInput("the freeze would end before it starts")
    if ends_at - max(starts_at, now) > MAX_FREEZE:
        raise InvalidInput(f"a freeze lasts at most {MAX_FREEZE.days} days")
    return Window(starts_at, ends_at, rest)
