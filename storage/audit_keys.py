"""The audit key: HMAC-SHA256 per row and a signature per checkpoint.

The key lives outside the database (``STREAMOPS_AUDIT_KEY``), so someone who
can write to the database but does not hold the key cannot forge, re-hash or
re-link a row or a checkpoint that verifies.

A key is at least 32 random bytes written as URL-safe base64
(:func:`generate_key`). Its id is a fingerprint of the key
(:func:`key_id_of`), recorded on every row and checkpoint it authenticates, so
a key can be rotated: the new key signs new rows, and the retired keys
(``STREAMOPS_AUDIT_KEYS``) still verify the old ones.

Two sub-keys are derived from the key, one for rows and one for checkpoints,
so a row MAC can never pass for a checkpoint signature or the other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from storage.audit_chain import iso

MIN_KEY_BYTES = 32
_ROW_LABEL = b"streamops audit row v1"
_CHECKPOINT_LABEL = b"streamops audit checkpoint v1"
_ID_LABEL = b"streamops audit key id v1\x00"


class AuditKeyError(ValueError):
    """A key could not be read (too short, not base64)."""


def generate_key() -> str:
    """A new random key as URL-safe base64 (32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode("ascii")


def decode_key(text: str) -> bytes:
    """The key bytes of ``text`` (URL-safe or standard base64, padding optional).

    Raises:
        AuditKeyError: not base64, or shorter than 32 bytes.
    """
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise AuditKeyError(
            "the audit key is not base64: make one with `streamops audit keygen`"
        ) from None
    if len(raw) < MIN_KEY_BYTES:
        raise AuditKeyError(
            f"the audit key is {len(raw)} bytes; it needs at least {MIN_KEY_BYTES}:"
            " make one with `streamops audit keygen`"
        )
    return raw


def key_id_of(secret: bytes) -> str:
    """The public fingerprint of a key: 16 hex digits, safe to store and show."""
    return hashlib.sha256(_ID_LABEL + secret).hexdigest()[:16]


@dataclass(frozen=True)
class AuditKey:
    """One key, with its id and the two derived sub-keys."""

    key_id: str
    row_key: bytes = field(repr=False)
    checkpoint_key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> AuditKey:
        """Derive the id and the sub-keys from the key bytes."""
        return cls(
            key_id=key_id_of(secret),
            row_key=hmac.digest(secret, _ROW_LABEL, "sha256"),
            checkpoint_key=hmac.digest(secret, _CHECKPOINT_LABEL, "sha256"),
        )

    @classmethod
    def from_text(cls, text: str) -> AuditKey:
        """Read a key written by :func:`generate_key`."""
        return cls.from_secret(decode_key(text))

    def row_mac(self, seq: int, checkpoint_id: int | None, digest: str) -> str:
        """HMAC-SHA256 of a row: its sequence number, key id, known checkpoint and hash."""
        return row_mac(self.row_key, self.key_id, seq, checkpoint_id, digest)

    def sign_checkpoint(self, content: str) -> str:
        """HMAC-SHA256 of a checkpoint's canonical content (:func:`checkpoint_content`)."""
        return hmac.digest(self.checkpoint_key, content.encode("utf-8"), "sha256").hex()


def row_mac(row_key: bytes, key_id: str, seq: int, checkpoint_id: int | None, digest: str) -> str:
    """The MAC text of a row (hex); see :meth:`AuditKey.row_mac`."""
    message = f"{seq}|{key_id}|{checkpoint_id or 0}|{digest}".encode()
    return hmac.digest(row_key, message, "sha256").hex()


def checkpoint_content(
    *,
    checkpoint_id: int,
    kind: str,
    entry_id: int,
    entry_hash: str,
    created_at: datetime,
    prev_hash: str,
    hash: str,
    key_id: str,
    unkeyed_until: int,
) -> str:
    """The canonical text a checkpoint signature covers (also what a witness stores)."""
    return json.dumps(
        {
            "checkpoint": checkpoint_id,
            "created_at": iso(created_at),
            "entry_hash": entry_hash,
            "entry_id": entry_id,
            "hash": hash,
            "key_id": key_id,
            "kind": kind,
            "prev_hash": prev_hash,
            "unkeyed_until": unkeyed_until,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class KeyRing:
    """The current key (signs new rows) and the retired ones (verify old rows only)."""

    current: AuditKey | None = None
    retired: tuple[AuditKey, ...] = ()

    @classmethod
    def from_texts(cls, current: str | None, retired: Iterable[str] = ()) -> KeyRing:
        """A ring from the key texts of the settings (``None``: no key configured)."""
        return cls(
            current=AuditKey.from_text(current) if current else None,
            retired=tuple(AuditKey.from_text(text) for text in retired if text.strip()),
        )

    @property
    def keyed(self) -> bool:
        """True when new rows are authenticated."""
        return self.current is not None

    def get(self, key_id: str) -> AuditKey | None:
        """The key with ``key_id``, current or retired."""
        for key in self.all():
            if key.key_id == key_id:
                return key
        return None

    def all(self) -> tuple[AuditKey, ...]:
        """Every key, the current one first."""
        return ((self.current,) if self.current else ()) + self.retired

    def ids(self) -> list[str]:
        """The ids of every key (for messages)."""
        return [key.key_id for key in self.all()]


def split_keys(text: str | None) -> list[str]:
    """The retired keys of ``STREAMOPS_AUDIT_KEYS``: separated by commas or whitespace."""
    if not text:
        return []
    return [part for part in text.replace(",", " ").split() if part]
