"""The audit interface every feature writes through, and `/audit` filter parsing.

Features build an :class:`AuditEvent` for each state-changing action and each
refused or failed attempt and hand it to an :class:`Auditor`
(``storage.audit.AuditLog`` in production, a recording fake in tests).
Handlers ack first; the service writes the row after the ack, durably.

Filter text such as ``user=U123 action=distribute since=7d page=2`` is parsed
by :func:`parse_filters` into :class:`AuditFilters`, which the repository,
the CLI and the Slack handler share.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from bot.errors import InvalidInput
from bot.mrkdwn import esc
from storage.audit_events import OUTCOMES, SOURCES, AuditEvent, AuditFilters, Outcome, Source

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "PROVIDERS",
    "SOURCES",
    "AuditEvent",
    "AuditFilters",
    "Auditor",
    "Outcome",
    "Source",
    "parse_filters",
]

PROVIDERS: tuple[str, ...] = ("streampixel", "streamstack", "streamapi")

#: The action names features record (others may be added; none is enforced).
ACTIONS: tuple[str, ...] = (
    "upload",
    "distribute",
    "rollback",
    "queue",
    "delete",
    "delete.schedule",
    "delete.undo",
    "session.create",
    "role.grant",
    "role.revoke",
    "subscription.change",
    "audit.query",
    "audit.export",
    "audit.purge",
)

_log = logging.getLogger("streamops.audit")


class Auditor(Protocol):
    """Anything that can durably record an :class:`AuditEvent`."""

    async def record(self, event: AuditEvent) -> None:
        """Record ``event``; raises if it could not be stored."""
        ...


# ---------------------------------------------------------------- filters


_KEYS = {
    "user": "actor_id",
    "actor": "actor_id",
    "action": "action",
    "provider": "provider",
    "target": "target",
    "outcome": "outcome",
    "since": "since",
    "until": "until",
    "page": "page",
}
_RELATIVE = re.compile(r"^(\d{1,5})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_TOKEN = re.compile(r"^[\w.:@/+-]{1,200}$")


def parse_filters(text: str, *, now: datetime | None = None) -> AuditFilters:
    """Parse ``/audit`` arguments such as ``user=U1 action=distribute since=7d page=2``.

    Keys: ``user`` (or ``actor``; a Slack mention works too), ``action``,
    ``provider``, ``target``, ``outcome``, ``since``, ``until``, ``page``.
    Times are relative (``30m``, ``24h``, ``7d``, ``2w`` before ``now``), ISO
    dates (``2026-11-01``, midnight UTC; as ``until`` the whole day is
    included) or ISO datetimes (UTC unless they carry an offset).

    Args:
        text: the argument text; empty means "no filter".
        now: the current time for relative values (defaults to the wall clock).

    Returns:
        The parsed filters.

    Raises:
        InvalidInput: naming the first bad token and what would be accepted.
    """
    now = now or datetime.now(UTC)
    values: dict[str, object] = {}
    for token in text.split():
        key, sep, raw = token.partition("=")
        key = key.lower()
        if not sep or not raw:
            raise InvalidInput(f"'{esc(token)}' is not a filter: write key=value, e.g. since=7d")
        if key not in _KEYS:
            raise InvalidInput(
                f"unknown filter '{esc(key)}': use one of {', '.join(sorted(_KEYS))}"
            )
        field_name = _KEYS[key]
        if field_name in values:
            raise InvalidInput(f"filter '{esc(key)}' is given twice")
        values[field_name] = _parse_value(key, raw, now)
    since, until = values.get("since"), values.get("until")
    if isinstance(since, datetime) and isinstance(until, datetime) and since >= until:
        raise InvalidInput("'since' must be before 'until'")
    return AuditFilters(**values)  # type: ignore[arg-type]  # each value was checked by _parse_value


def _parse_value(key: str, raw: str, now: datetime) -> object:
    if key in ("user", "actor"):
        mention = _MENTION.match(raw)
        raw = mention.group(1) if mention else raw
    if key in ("since", "until"):
        return _parse_time(key, raw, now)
    if not _TOKEN.match(raw):
        raise InvalidInput(f"'{esc(raw)}' is not a valid value for {key}")
    if key == "provider":
        if raw.lower() not in PROVIDERS:
            raise InvalidInput(f"unknown provider '{esc(raw)}': use one of {', '.join(PROVIDERS)}")
        return raw.lower()
    if key == "outcome":
        if raw.lower() not in OUTCOMES:
            raise InvalidInput(f"unknown outcome '{esc(raw)}': use one of {', '.join(OUTCOMES)}")
        return raw.lower()
    if key == "page":
        if not raw.isdigit() or int(raw) < 1 or int(raw) > 100_000:
            raise InvalidInput(f"page must be a whole number from 1, not '{esc(raw)}'")
        return int(raw)
    return raw


def _parse_time(key: str, raw: str, now: datetime) -> datetime:
    relative = _RELATIVE.match(raw.lower())
    if relative:
        amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if key == "until" else start
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"'{esc(raw)}' is not a time for {key}: use e.g. 30m, 24h, 7d, 2026-11-01"
            " or 2026-11-01T12:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
