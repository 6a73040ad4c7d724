"""The audit interface: events, the background writer and /audit filter parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditEvent, AuditFilters, parse_filters
from bot.errors import InvalidInput

NOW = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)


def _event(i: int = 0) -> AuditEvent:
    return AuditEvent(
        action="delete",
        outcome="ok",
        actor_id=f"U{i}",
        source="button",
        requested_at=NOW,
        correlation_id=f"c{i}",
    )


def test_parse_every_filter() -> None:
    """Every key is parsed into its field, with relative and absolute times."""
    filters = parse_filters(
        "user=U123 action=distribute provider=StreamPixel target=abc outcome=denied"
        " since=30d until=2026-11-01 page=2",
        now=NOW,
    )
    assert filters == AuditFilters(
        actor_id="U123",
        action="distribute",
        provider="streampixel",
        target="abc",
        outcome="denied",
        since=NOW - timedelta(days=30),
        until=datetime(2026, 11, 2, tzinfo=UTC),
        page=2,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("24h", NOW - timedelta(hours=24)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T12:00", datetime(2026, 11, 1, 12, tzinfo=UTC)),
        ("2026-11-01T12:00+02:00", datetime(2026, 11, 1, 10, tzinfo=UTC)),
    ],
)
def test_since_forms(raw: str, expected: datetime) -> None:
    """Relative durations, dates and datetimes all become aware UTC times."""
    assert parse_filters(f"since={raw}", now=NOW).since == expected


def test_empty_text_and_mentions() -> None:
    """No text means no filter; a Slack mention names the user id."""
    assert parse_filters("", now=NOW) == AuditFilters()
    assert parse_filters("user=<@U42|ada>", now=NOW).actor_id == "U42"
    assert parse_filters("actor=<@U42>", now=NOW).actor_id == "U42"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("distribute", "key=value"),
        ("color=red", "unknown filter 'color'"),
        ("provider=netflix", "unknown provider"),
        ("outcome=maybe", "unknown outcome"),
        ("since=yesterday", "not a time"),
        ("since=2026-13-01", "not a time"),
        ("page=0", "page must be"),
        ("page=two", "page must be"),
        ("user=U1 user=U2", "given twice"),
        ("since=1d until=2d", "'since' must be before 'until'"),
        ("target=a;drop", "not a valid value"),
        ("action=", "key=value"),
    ],
)
def test_bad_input_is_explained(text: str, fragment: str) -> None:
    """Each malformed filter raises InvalidInput that says what is wrong."""
    with pytest.raises(InvalidInput, match=fragment):
        parse_filters(text, now=NOW)


def test_as_text_round_trips() -> None:
    """Filters written by as_text parse back to the same filters."""
    filters = parse_filters(
        "user=U1 action=role.grant provider=streamapi target=h-1 outcome=failed"
        " since=3d until=2026-11-09T08:00:00.123456Z page=4",
        now=NOW,
    )
    assert parse_filters(filters.as_text(), now=NOW) == filters
    assert filters.with_page(0).page == 1


def test_event_validation() -> None:
    """Events refuse unknown outcomes or sources, naive times and a missing actor."""
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent(
            action="x",
            outcome="maybe",
            actor_id="U1",
            source="cli",
            requested_at=NOW,  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="source"):
        AuditEvent(
            action="x",
            outcome="ok",
            actor_id="U1",
            source="email",
            requested_at=NOW,  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(
            action="x", outcome="ok", actor_id="U1", source="cli", requested_at=datetime(2026, 1, 1)
        )
    with pytest.raises(ValueError, match="actor_id"):
        AuditEvent(action="x", outcome="ok", actor_id="", source="cli", requested_at=NOW)
