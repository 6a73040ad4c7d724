"""Timestamps as the tables hold them: always UTC in, always aware UTC out.

Every timestamp column uses :class:`UTCDateTime`, so repositories hand
``datetime`` values straight to SQLAlchemy and get aware UTC values back on
both backends (SQLite stores naive text and would otherwise return naive
values; PostgreSQL stores ``timestamptz``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_column() -> UTCDateTime:
    """The column type every timestamp uses: ``Field(sa_type=utc_column())``."""
    return UTCDateTime()


class UTCDateTime(TypeDecorator[datetime]):
    """``timestamptz`` on PostgreSQL, UTC text on SQLite; aware UTC in Python either way."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC before storing or comparing (SQLite would drop the offset)."""
        if value is None:
            return None
        moment = as_utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Every value read comes back aware, in UTC."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return as_utc(value)
