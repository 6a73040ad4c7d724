"""Audit exports as CSV or JSON, and reading them back.

Both formats carry every column, including ``prev_hash`` and ``hash``, so an
export can be verified on its own and serves as proof for a purge. Times are
canonical UTC ISO strings; in CSV an empty cell is NULL (the log never stores
empty strings in its nullable columns).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterable
from typing import IO, Any

from storage.audit_chain import RECORD_FIELDS, AuditRecord, iso, parse_iso
from storage.errors import InvalidInput

EXPORT_FORMAT = "streamops-audit-export"
EXPORT_VERSION = 1
_NULLABLE = ("completed_at", "provider", "target_type", "target_id")


def _plain(record: AuditRecord) -> dict[str, Any]:
    values = record.as_mapping()
    values["requested_at"] = iso(record.requested_at)
    values["completed_at"] = iso(record.completed_at)
    return values


async def write_csv(records: AsyncIterable[AuditRecord], out: IO[str]) -> int:
    """Write ``records`` as CSV with a header row; return how many were written."""
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    count = 0
    async for record in records:
        writer.writerow(_plain(record))
        count += 1
    return count


async def write_json(records: AsyncIterable[AuditRecord], out: IO[str], *, filters: str) -> int:
    """Write ``records`` as one JSON document; return how many were written."""
    header = json.dumps({"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "filters": filters})
    out.write(header[:-1] + ', "entries": [')
    count = 0
    async for record in records:
        out.write(("," if count else "") + "\n" + json.dumps(_plain(record), ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def load_export(text: str) -> list[AuditRecord]:
    """Read an export written by :func:`write_csv` or :func:`write_json`.

    Raises:
        InvalidInput: the text is not an audit export.
    """
    try:
        if text.lstrip().startswith("{"):
            return _load_json(text)
        return _load_csv(text)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"not a StreamOps audit export: {exc}") from None


def _load_json(text: str) -> list[AuditRecord]:
    document = json.loads(text)
    if document.get("format") != EXPORT_FORMAT:
        raise ValueError("missing format marker")
    return [_record(entry) for entry in document["entries"]]


def _load_csv(text: str) -> list[AuditRecord]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != RECORD_FIELDS:
        raise ValueError("unexpected CSV header")
    records = []
    for row in reader:
        values: dict[str, Any] = dict(row)
        for name in _NULLABLE:
            if values[name] == "":
                values[name] = None
        records.append(_record(values))
    return records


def _record(values: dict[str, Any]) -> AuditRecord:
    fields = {name: values[name] for name in RECORD_FIELDS}
    fields["id"] = int(fields["id"])
    fields["requested_at"] = parse_iso(fields["requested_at"])
    fields["completed_at"] = parse_iso(fields["completed_at"])
    for name in RECORD_FIELDS:
        if name not in ("id", "requested_at", "completed_at") and fields[name] is not None:
            fields[name] = str(fields[name])
    return AuditRecord(**fields)
