"""Timestamps as the tables hold them: always UTC in, always aware UTC out.

Every timestamp column uses :class:`UTCDateTime`, so repositories hand
``datetime`` values straight to SQLAlchemy and get aware UTC values back on
both backends (SQLite stores naive text and would otherwise return naive
values; PostgreSQL stores ``timestamptz``).
"""

from __future__ import annotations

from collections.abc import Callable
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


def stored_time(dialect: Dialect) -> Callable[[datetime], Any]:
    """A time in the form a :class:`UTCDateTime` column stores it on ``dialect``.

    For statements sent to the driver directly (``Database.sqlite_fetch``). Through
    ``dialect_impl``: the dialect's own DATETIME writes the text (on SQLite with
    microseconds always, as every row has them); the type's bare ``bind_processor``
    would leave a datetime to sqlite3's default adapter, which drops ``.000000``.
    """
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return processor or (lambda value: value)
