"""Canonical content, hashing and secret scrubbing for the audit chain.

A row's content is a JSON object with sorted keys, compact separators and
times as UTC ISO strings with microseconds (``2026-11-01T12:00:00.000000Z``);
``params`` is itself canonical JSON text. The row hash is
``sha256(prev_hash + content)`` in lowercase hex; the first row's
``prev_hash`` is :data:`GENESIS` (or the purge anchor's hash).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
SCRUBBED = "***"

#: Field names hashed as a row's content, in the order exports write them.
CONTENT_FIELDS: tuple[str, ...] = (
    "requested_at",
    "completed_at",
    "actor_id",
    "actor_name",
    "team_id",
    "channel_id",
    "source",
    "provider",
    "action",
    "target_type",
    "target_id",
    "params",
    "outcome",
    "message",
    "correlation_id",
)
RECORD_FIELDS: tuple[str, ...] = ("id", *CONTENT_FIELDS, "prev_hash", "hash")

_SECRET_KEY = re.compile(
    r"api[_-]?key|secret|token|passw(or)?d|signature|authorization|credential|cookie",
    re.IGNORECASE,
)


def scrub(value: Any) -> Any:
    """A copy of ``value`` with the value of every secret-named key replaced by ``***``.

    Walks nested mappings and lists; keys such as ``api_key``, ``apiKey``,
    ``client_secret``, ``token`` or ``password`` are matched case-insensitively.
    """
    if isinstance(value, Mapping):
        return {
            str(key): SCRUBBED if _SECRET_KEY.search(str(key)) else scrub(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(inner) for inner in value]
    return value


def params_json(params: Mapping[str, object]) -> str:
    """Scrubbed, canonical JSON text of an event's parameters."""
    return json.dumps(scrub(params), sort_keys=True, separators=(",", ":"), default=str)


def to_db_time(moment: datetime | None) -> datetime | None:
    """An aware datetime as the naive UTC value stored in the database."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db_time(moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) datetime as an aware UTC datetime."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """The canonical text of a time: UTC, microseconds, ``Z`` suffix."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def parse_iso(text: str | None) -> datetime | None:
    """Read back a time written by :func:`iso` as an aware UTC datetime."""
    if text is None or text == "":
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def content_json(row: Mapping[Any, Any]) -> str:
    """The canonical content of a row (any mapping holding :data:`CONTENT_FIELDS`)."""
    content = {name: row[name] for name in CONTENT_FIELDS}
    content["requested_at"] = iso(content["requested_at"])
    content["completed_at"] = iso(content["completed_at"])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: str) -> str:
    """sha256 of the previous hash followed by this row's canonical content."""
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def row_hash(row: Mapping[str, Any]) -> str:
    """The hash a row should carry, from its own ``prev_hash`` and content."""
    return chain_hash(str(row["prev_hash"]), content_json(row))


def checkpoint_hash(
    prev_hash: str, *, kind: str, entry_id: int, entry_hash: str, created_at: datetime
) -> str:
    """The hash of a checkpoint, chained to the previous checkpoint."""
    content = json.dumps(
        {
            "created_at": iso(created_at),
            "entry_hash": entry_hash,
            "entry_id": entry_id,
            "kind": kind,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return chain_hash(prev_hash, content)


@dataclass(frozen=True, kw_only=True)
class AuditRecord:
    """A stored audit row as read back (times aware UTC, ``params`` as JSON text)."""

    id: int
    requested_at: datetime
    completed_at: datetime | None
    actor_id: str
    actor_name: str
    team_id: str
    channel_id: str
    source: str
    provider: str | None
    action: str
    target_type: str | None
    target_id: str | None
    params: str
    outcome: str
    message: str
    correlation_id: str
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AuditRecord:
        """Build from a database row mapping (naive UTC times)."""
        values = {name: row[name] for name in RECORD_FIELDS}
        values["requested_at"] = from_db_time(values["requested_at"])
        values["completed_at"] = from_db_time(values["completed_at"])
        return cls(**values)

    @property
    def params_dict(self) -> dict[str, Any]:
        """The parameters decoded from JSON."""
        decoded = json.loads(self.params)
        return decoded if isinstance(decoded, dict) else {}

    def as_mapping(self) -> dict[str, Any]:
        """Every field by name (times as datetimes)."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}

    def is_intact(self) -> bool:
        """True when ``hash`` matches ``prev_hash`` and the content."""
        return row_hash(self.as_mapping()) == self.hash
