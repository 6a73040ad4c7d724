"""Parsing `at HH:MM`, `at <ISO 8601>` and `in <duration>` against an injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from bot.services.schedule_time import parse_duration, parse_when

NOW = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["at", "23:15"], datetime(2026, 12, 1, 23, 15, tzinfo=UTC)),
        (["at", "9:05"], datetime(2026, 12, 2, 9, 5, tzinfo=UTC)),  # passed today: tomorrow
        (["at", "21:30"], datetime(2026, 12, 2, 21, 30, tzinfo=UTC)),  # now is not ahead
        (["at", "23:00+02:00"], datetime(2026, 12, 2, 21, 0, tzinfo=UTC)),  # 23:00 CET is past
        (["at", "18:00-05:00"], datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),
        (["at", "22:00Z"], datetime(2026, 12, 1, 22, 0, tzinfo=UTC)),
        (["at", "2026-12-24T18:00Z"], datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        (["at", "2026-12-24T18:00:00+01:00"], datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        (["at", "2026-12-24T18:00"], datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        (["at", "2026-12-24", "18:00"], datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        (["AT", "2026-12-02"], datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),
        (["in", "90m"], NOW + timedelta(minutes=90)),
        (["in", "1h30m"], NOW + timedelta(minutes=90)),
        (["in", "2", "hours"], NOW + timedelta(hours=2)),
        (["in", "1d"], NOW + timedelta(days=1)),
        (["in", "PT45M"], NOW + timedelta(minutes=45)),
        (["in", "1", "hour", "and", "5", "minutes"], NOW + timedelta(minutes=65)),
    ],
)
def test_accepted_forms(words: list[str], expected: datetime) -> None:
    """Each form names one UTC moment."""
    when = parse_when(words, NOW)
    assert when == expected and when.tzinfo == UTC


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (["at"], "say when"),
        (["tomorrow"], "say when"),
        (["at", "25:00"], "not a time of day"),
        (["at", "noonish"], "not a time"),
        (["at", "2026-11-30T18:00Z"], "in the past"),
        (["at", "2027-06-01T00:00Z"], "at most 30 days"),
        (["in", "5 parsecs"], "not a duration"),
        (["in", "0m"], "more than zero"),
        (["in", "m5"], "not a duration"),
        (["at", "2026-12-24", "18:00", "extra"], "not a time"),
    ],
)
def test_refused_forms_name_the_problem(words: list[str], problem: str) -> None:
    """Bad input is refused with a message that says what is wrong."""
    with pytest.raises(InvalidInput, match=problem):
        parse_when(words, NOW)


def test_durations() -> None:
    """Units add up; ISO durations work too."""
    assert parse_duration("1d2h3m4s") == timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    with pytest.raises(InvalidInput):
        parse_duration("")
