"""Timestamps as the tables hold them: always UTC, made aware again on the way out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime


def utc_column() -> DateTime:
    """The column type every timestamp uses (``timestamptz`` on PostgreSQL)."""
    return DateTime(timezone=True)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_db(value: datetime) -> datetime:
    """``value`` converted to UTC before it is stored or compared (SQLite drops the offset)."""
    return as_utc(value)
