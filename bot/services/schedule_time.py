"""When a scheduled distribution should run: ``at <HH:MM>``, ``at <ISO 8601>``, ``in <duration>``.

Times are UTC unless they carry an offset (``18:00+02:00``, ``2026-12-24T18:00Z``,
``2026-12-24T18:00:00-05:00``). ``at HH:MM`` is the next such moment: today if it
is still ahead, else tomorrow. Durations are a number and a unit, possibly
several (``90m``, ``1h30m``, ``2 hours``, ``1d``), or ISO 8601 (``PT1H30M``).
The result is always timezone-aware UTC, in the future and within
:data:`MAX_AHEAD`; anything else is refused with a message naming the problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from bot.errors import InvalidInput
from bot.mrkdwn import code

#: How far ahead a run may be scheduled.
MAX_AHEAD = timedelta(days=30)

USAGE = "`at HH:MM` (UTC), `at 2026-12-24T18:00Z` (ISO 8601, any offset) or `in 2h30m`"

_UNITS = {
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_PART = re.compile(r"(\d+)([a-z]+)")
_ISO_DURATION = re.compile(
    r"p(?:(?P<d>\d+)d)?(?:t(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?)?"
)


def parse_when(words: Sequence[str], now: datetime) -> datetime:
    """The UTC moment ``words`` (``["at", "18:00"]``, ``["in", "90m"]``...) names.

    Args:
        words: the schedule part of the command, starting with ``at`` or ``in``.
        now: the current time (aware).

    Raises:
        InvalidInput: not understood, in the past, or more than :data:`MAX_AHEAD` ahead.
    """
    if len(words) < 2 or words[0].lower() not in ("at", "in"):
        raise InvalidInput(f"say when: {USAGE}")
    now = now.astimezone(UTC)
    rest = [w.strip() for w in words[1:] if w.strip()]
    if words[0].lower() == "in":
        when = now + parse_duration(" ".join(rest))
    else:
        when = _parse_at(rest, now)
    if when <= now:
        raise InvalidInput(
            f"{when:%Y-%m-%d %H:%M} UTC is in the past (it is now {now:%Y-%m-%d %H:%M} UTC)"
        )
    if when - now > MAX_AHEAD:
        raise InvalidInput(f"a run can be scheduled at most {MAX_AHEAD.days} days ahead")
    return when


def parse_duration(text: str) -> timedelta:
    """``90m``, ``1h30m``, ``2 hours``, ``PT1H30M`` as a duration (at least one second).

    Raises:
        InvalidInput: not a duration.
    """
    folded = text.lower().replace(" ", "").replace(",", "").replace("and", "")
    seconds = 0
    iso = _ISO_DURATION.fullmatch(folded)
    if folded.startswith("p") and iso:
        parts = {k: int(v) for k, v in iso.groupdict().items() if v}
        seconds = (
            parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
    else:
        position = 0
        for match in _PART.finditer(folded):
            unit = _UNITS.get(match.group(2))
            if match.start() != position or unit is None:
                raise InvalidInput(f"{code(text)} is not a duration; try `in 90m` or `in 1h30m`")
            seconds += int(match.group(1)) * unit
            position = match.end()
        if position != len(folded) or not folded:
            raise InvalidInput(f"{code(text)} is not a duration; try `in 90m` or `in 1h30m`")
    if seconds <= 0:
        raise InvalidInput("the duration must be more than zero")
    return timedelta(seconds=seconds)


def _parse_at(rest: list[str], now: datetime) -> datetime:
    text = "T".join(rest) if len(rest) == 2 else " ".join(rest)
    if len(rest) > 2 or not text:
        raise InvalidInput(f"{code('at ' + ' '.join(rest))} is not a time; say {USAGE}")
    if re.fullmatch(r"\d{1,2}:\d{2}(?::\d{2})?(?:[zZ]|[+-]\d{2}:?\d{2})?", text):
        return _next_clock_time(text, now)
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"{code('at ' + ' '.join(rest))} is not a time; say {USAGE}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _next_clock_time(text: str, now: datetime) -> datetime:
    """The next ``HH:MM[:SS][offset]`` after ``now`` (today or tomorrow, in that offset)."""
    if len(text.split(":", 1)[0]) == 1:
        text = "0" + text
    try:
        clock = time.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"{code(text)} is not a time of day (00:00 to 23:59)") from None
    zone = clock.tzinfo or UTC
    local_now = now.astimezone(zone)
    when = datetime.combine(local_now.date(), clock.replace(tzinfo=None), tzinfo=zone)
    if when <= local_now:
        when += timedelta(days=1)
    return when.astimezone(UTC)
