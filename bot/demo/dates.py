"""Slack date tokens (``<!date^1764614400^{date_short} {time}|fallback>``) as local times.

Slack shows each reader the moment in their own time zone; the demo's terminal does
the same with this machine's zone. Pure: the zone and "now" can be given.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

_TOKEN = re.compile(r"\{(\w+)\}")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    future, size = seconds < 0, abs(seconds)
    for name, unit in (("year", 31536000), ("month", 2592000), ("day", 86400),
                       ("hour", 3600), ("minute", 60)):  # fmt: skip
        if size >= unit:
            count = size // unit
            phrase = f"{count} {name}{'' if count == 1 else 's'}"
            return f"in {phrase}" if future else f"{phrase} ago"
    return "in a few seconds" if future else "just now"


def format_date(
    ts: int, fmt: str, *, zone: tzinfo | None = None, now: datetime | None = None
) -> str:
    """``fmt`` with Slack's tokens filled in for ``ts`` (seconds) in ``zone`` (local by default).

    Tokens: ``{date_num}`` 2026-12-01, ``{date}`` December 1st, 2026, ``{date_short}``
    Dec 1, 2026, ``{date_long}`` Tuesday, December 1st, 2026, their ``_pretty`` forms
    (today / yesterday / tomorrow when it applies), ``{time}`` 18:40, ``{time_secs}``
    18:40:05 and ``{ago}`` 3 minutes ago. Unknown tokens stay as written.
    """
    moment = datetime.fromtimestamp(ts).astimezone(zone)
    current = (now or datetime.now(moment.tzinfo)).astimezone(moment.tzinfo)
    date = f"{moment:%B} {_ordinal(moment.day)}, {moment.year}"
    short = f"{moment:%b} {moment.day}, {moment.year}"
    long = f"{moment:%A}, {date}"
    days = (moment.date() - current.date()).days
    near = {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days)
    values = {
        "date_num": f"{moment:%Y-%m-%d}",
        "date": date,
        "date_short": short,
        "date_long": long,
        "date_pretty": near or date,
        "date_short_pretty": near or short,
        "date_long_pretty": near or long,
        "time": f"{moment:%H:%M}",
        "time_secs": f"{moment:%H:%M:%S}",
        "ago": _ago(moment, current),
    }
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), fmt)


def date_token(target: str, fallback: str) -> str:
    """The text of a ``!date^ts^format[^link]`` token; ``fallback`` when it is malformed."""
    parts = target.split("^")
    try:
        ts = int(parts[1])
    except (IndexError, ValueError):
        return fallback
    fmt = parts[2] if len(parts) > 2 else "{date_num} {time}"
    return format_date(ts, fmt)
