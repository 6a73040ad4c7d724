"""Witnessed heads: each signed checkpoint, also kept outside the database.

A head is a checkpoint's sequence number (the row it covers), hashes, time,
key id and signature. The checkpoint job appends one JSON line per head to the
file ``STREAMOPS_AUDIT_WITNESS`` names (and posts it to the admin channel), so
deleting the tail of the log *and* its checkpoints is still caught:
``streamops audit verify --witness FILE`` checks that the newest witnessed head
is still in the database, unchanged.

Keep the file where the database's writers cannot rewrite it (another host,
an append-only mount, a log shipper).
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.audit_chain import iso, parse_iso
from storage.audit_keys import KeyRing, checkpoint_content


class WitnessError(ValueError):
    """The witness file cannot be read as witness heads."""


@dataclass(frozen=True, kw_only=True)
class WitnessHead:
    """A signed chain head as published (see :func:`storage.audit_keys.checkpoint_content`)."""

    checkpoint_id: int
    kind: str
    entry_id: int
    entry_hash: str
    created_at: datetime
    prev_hash: str
    hash: str
    key_id: str
    signature: str
    unkeyed_until: int

    def content(self) -> str:
        """The canonical text the signature covers."""
        return checkpoint_content(
            checkpoint_id=self.checkpoint_id,
            kind=self.kind,
            entry_id=self.entry_id,
            entry_hash=self.entry_hash,
            created_at=self.created_at,
            prev_hash=self.prev_hash,
            hash=self.hash,
            key_id=self.key_id,
            unkeyed_until=self.unkeyed_until,
        )

    def signed_by(self, keys: KeyRing) -> bool:
        """True when a key of ``keys`` with this head's key id made its signature."""
        key = keys.get(self.key_id)
        if key is None:
            return False
        return hmac.compare_digest(key.sign_checkpoint(self.content()), self.signature)

    def to_json(self) -> str:
        """One line of the witness file."""
        payload: dict[str, Any] = json.loads(self.content())
        payload["signature"] = self.signature
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> WitnessHead:
        """Read a line written by :meth:`to_json`.

        Raises:
            WitnessError: the line is not a witness head.
        """
        try:
            data = json.loads(line)
            created = parse_iso(str(data["created_at"]))
            assert created is not None
            return cls(
                checkpoint_id=int(data["checkpoint"]),
                kind=str(data["kind"]),
                entry_id=int(data["entry_id"]),
                entry_hash=str(data["entry_hash"]),
                created_at=created,
                prev_hash=str(data["prev_hash"]),
                hash=str(data["hash"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                unkeyed_until=int(data["unkeyed_until"]),
            )
        except (ValueError, KeyError, TypeError, AssertionError):
            raise WitnessError("not a witness head") from None

    def describe(self) -> str:
        """``row N (checkpoint C, <time>)``."""
        return f"row {self.entry_id} (checkpoint {self.checkpoint_id}, {iso(self.created_at)})"


def append_head(path: Path, head: WitnessHead) -> None:
    """Append ``head`` as one line to ``path`` and flush it to disk (blocking: use a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(head.to_json() + "\n")
        out.flush()
        os.fsync(out.fileno())


def newest_head(path: Path) -> WitnessHead | None:
    """The head with the highest checkpoint id in the witness file (None if it is empty).

    Raises:
        WitnessError: the file cannot be read, or a line is not a witness head.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WitnessError(f"cannot read the witness file {path}: {exc.strerror}") from None
    newest: WitnessHead | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            head = WitnessHead.from_json(line)
        except WitnessError:
            raise WitnessError(f"line {number} of {path} is not a witness head") from None
        if newest is None or head.checkpoint_id > newest.checkpoint_id:
            newest = head
    return newest
