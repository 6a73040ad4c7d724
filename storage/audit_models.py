"""Tables of the audit log: hash-chained entries and chained checkpoints.

Times are stored as naive UTC (``TIMESTAMP WITHOUT TIME ZONE``) so SQLite and
PostgreSQL give back exactly what was hashed; :mod:`storage.audit_chain`
converts at the edges.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

HASH_LENGTH = 64
KEY_ID_LENGTH = 32


class AuditEntry(SQLModel, table=True):
    """One audit row; ``hash`` = sha256(``prev_hash`` + canonical content).

    The row id is its sequence number. Rows written with a key (revision 0009)
    also carry ``key_id``, ``mac`` and ``checkpoint_id`` (see
    :mod:`storage.audit_keys`); older rows leave them empty and are unkeyed.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_time", "actor_id", "requested_at", "id"),
        Index("ix_audit_entries_target_time", "target_id", "requested_at", "id"),
        Index("ix_audit_entries_time", "requested_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    requested_at: datetime = Field(sa_column=Column(DateTime(), nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime()))
    actor_id: str = Field(sa_column=Column(String(64), nullable=False))
    actor_name: str = Field(default="", sa_column=Column(String(200), nullable=False))
    team_id: str = Field(default="", sa_column=Column(String(64), nullable=False))
    channel_id: str = Field(default="", sa_column=Column(String(64), nullable=False))
    source: str = Field(sa_column=Column(String(32), nullable=False))
    provider: str | None = Field(default=None, sa_column=Column(String(32)))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target_type: str | None = Field(default=None, sa_column=Column(String(32)))
    target_id: str | None = Field(default=None, sa_column=Column(String(200)))
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    correlation_id: str = Field(default="", sa_column=Column(String(200), nullable=False))
    prev_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    key_id: str | None = Field(default=None, sa_column=Column(String(KEY_ID_LENGTH)))
    mac: str | None = Field(default=None, sa_column=Column(String(HASH_LENGTH)))
    checkpoint_id: int | None = Field(default=None, sa_column=Column(Integer))


class AuditCheckpoint(SQLModel, table=True):
    """A signed-off chain head: ``kind`` is ``"checkpoint"`` or ``"purge"`` (an anchor).

    Checkpoints form their own chain (``hash`` = sha256(``prev_hash`` + content)),
    so an edited checkpoint is as visible as an edited entry. A purge anchor
    records the last purged entry, from which verification restarts.
    Checkpoints written with a key are signed (``key_id``, ``signature``) and
    name the last unkeyed row (``unkeyed_until``).
    """

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    created_at: datetime = Field(sa_column=Column(DateTime(), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    entry_id: int = Field(sa_column=Column(Integer, nullable=False))
    entry_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    prev_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    key_id: str | None = Field(default=None, sa_column=Column(String(KEY_ID_LENGTH)))
    signature: str | None = Field(default=None, sa_column=Column(String(HASH_LENGTH)))
    unkeyed_until: int | None = Field(default=None, sa_column=Column(Integer))
