"""The audit log repository: append-only, hash-chained, keyed, queryable, purgeable.

Every write runs in one transaction that first serialises writers (PostgreSQL:
``pg_advisory_xact_lock``; SQLite: the engine's ``BEGIN IMMEDIATE``), reads the
chain head, and appends a row whose hash covers the head's hash, so concurrent
writers never fork the chain. The row id is the sequence number: head + 1.
Every ``checkpoint_every`` rows (and whenever :meth:`AuditLog.checkpoint` is
called: the checkpoint job does so every minute) a checkpoint of the head is
written, which makes a truncated tail detectable.

With a key (:mod:`storage.audit_keys`), each row also carries an HMAC over its
sequence number, key id, the newest checkpoint and its hash, and each
checkpoint is signed, so a writer without the key cannot forge either. Once a
key has been used, the log refuses unkeyed writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO, Any, Literal

from sqlalchemy import ColumnElement, Select, Table, and_, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.audit_chain import (
    GENESIS,
    AuditRecord,
    chain_hash,
    checkpoint_hash,
    content_json,
    from_db_time,
    iso,
    params_json,
    to_db_time,
)
from storage.audit_events import AuditEvent, AuditFilters
from storage.audit_export import write_csv, write_json
from storage.audit_keys import KeyRing, checkpoint_content
from storage.audit_models import AuditCheckpoint, AuditEntry
from storage.audit_verify import VerifyReport, verify_chain
from storage.audit_witness import WitnessHead
from storage.db import Database
from storage.errors import Conflict, InvalidInput

ENTRIES: Table = AuditEntry.metadata.tables[AuditEntry.__tablename__]
CHECKPOINTS: Table = AuditCheckpoint.metadata.tables[AuditCheckpoint.__tablename__]

# Built once: every append runs both (building and cache-keying a statement per append
# cost more CPU than the hash and the HMAC together).
_HEAD = (
    select(
        ENTRIES.c.id,
        ENTRIES.c.hash,
        ENTRIES.c.key_id,
        select(func.max(CHECKPOINTS.c.id)).scalar_subquery(),
    )
    .order_by(ENTRIES.c.id.desc())
    .limit(1)
)
_INSERT_ENTRY = insert(ENTRIES)

#: Key of the PostgreSQL advisory lock that serialises audit writers ("AUDT").
ADVISORY_LOCK_KEY = 0x41554454
DEFAULT_PAGE_SIZE = 50
_BATCH = 5_000


@dataclass(frozen=True)
class AuditPage:
    """One page of query results, newest first."""

    records: list[AuditRecord]
    page: int
    per_page: int
    has_more: bool


@dataclass(frozen=True)
class AuditSummary:
    """Counts over every row matching a filter (most frequent first)."""

    total: int
    by_action: list[tuple[str, int]]
    by_actor: list[tuple[str, str, int]]
    by_outcome: list[tuple[str, int]]


class AuditKeyRequired(RuntimeError):
    """The log holds keyed rows, and this process has no audit key to continue them."""


@dataclass(frozen=True)
class Checkpoint:
    """A recorded chain head (signed when ``key_id`` is set)."""

    id: int
    kind: str
    entry_id: int
    entry_hash: str
    hash: str
    created_at: datetime | None = None
    prev_hash: str = GENESIS
    key_id: str | None = None
    signature: str | None = None
    unkeyed_until: int | None = None

    def witness_head(self) -> WitnessHead | None:
        """The head to publish outside the database (None for an unsigned checkpoint)."""
        if self.key_id is None or self.signature is None or self.created_at is None:
            return None
        return WitnessHead(
            checkpoint_id=self.id,
            kind=self.kind,
            entry_id=self.entry_id,
            entry_hash=self.entry_hash,
            created_at=self.created_at,
            prev_hash=self.prev_hash,
            hash=self.hash,
            key_id=self.key_id,
            signature=self.signature,
            unkeyed_until=self.unkeyed_until or 0,
        )


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed and the anchor verification now starts from."""

    purged: int
    first_id: int | None
    last_id: int | None
    anchor_hash: str | None


def storable_text(text: str) -> str:
    """``text`` as a column can store it: NUL (PostgreSQL refuses it) becomes U+FFFD and a
    lone surrogate becomes ``?``. The row's hash covers the stored text, so it still verifies."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


class AuditLog:
    """The audit repository over a :class:`storage.db.Database`.

    Args:
        db: the database (migrated to include revision 0009).
        checkpoint_every: write a checkpoint after this many new rows.
        clock: returns the current aware UTC time (checkpoint and purge times).
        keys: the audit keys; without a current key rows are written unkeyed
            (refused once the log holds keyed rows).
    """

    def __init__(
        self,
        db: Database,
        *,
        checkpoint_every: int = 1_000,
        clock: Callable[[], datetime] | None = None,
        keys: KeyRing | None = None,
    ) -> None:
        self._db = db
        self._checkpoint_every = checkpoint_every
        self._clock = clock or (lambda: datetime.now(UTC))
        self._keys = keys or KeyRing()
        self._last_checkpoint_entry: int | None = None

    @property
    def keys(self) -> KeyRing:
        """The keys this log signs and verifies with."""
        return self._keys

    # ------------------------------------------------------------ writing

    async def record(self, event: AuditEvent) -> None:
        """Append ``event`` (the ``bot.audit.Auditor`` interface)."""
        await self.append(event)

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Append ``event`` to the chain and return the stored row.

        Secret-named parameter keys are scrubbed before hashing and storage.
        """
        async with self._db.engine.begin() as conn:
            await self._lock(conn)
            return await self._append(conn, event)

    async def checkpoint(self) -> Checkpoint | None:
        """Record the current chain head as a checkpoint (None if nothing new to record)."""
        async with self._db.engine.begin() as conn:
            await self._lock(conn)
            head = await self._head(conn)
            last = await self._last_checkpoint(conn)
            if head is None or (last is not None and last.entry_id >= head.id):
                return None
            return await self._add_checkpoint(conn, "checkpoint", head.id, head.hash)

    async def latest_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint (or purge anchor), if any."""
        async with self._db.read() as conn:
            return await self._last_checkpoint(conn)

    async def _lock(self, conn: AsyncConnection) -> None:
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )

    async def _append(self, conn: AsyncConnection, event: AuditEvent) -> AuditRecord:
        head = await self._head(conn)
        if head is not None:
            prev_id, prev_hash = head.id, head.hash
        else:
            anchor = await self._last_checkpoint(conn, "purge")
            prev_id, prev_hash = (anchor.entry_id, anchor.entry_hash) if anchor else (0, GENESIS)
        key = self._keys.current
        if key is None and (
            (head is not None and head.key_id is not None)
            or await self._has_signed_checkpoint(conn, head)
        ):
            raise AuditKeyRequired(
                "the audit log holds keyed rows: set STREAMOPS_AUDIT_KEY to write to it"
            )
        values: dict[str, Any] = {
            "id": prev_id + 1,
            "requested_at": to_db_time(event.requested_at),
            "completed_at": to_db_time(event.completed_at),
            "actor_id": event.actor_id,
            "actor_name": event.actor_name,
            "team_id": event.team_id,
            "channel_id": event.channel_id,
            "source": event.source,
            "provider": event.provider or None,
            "action": event.action,
            "target_type": event.target_type or None,
            "target_id": event.target_id or None,
            "params": params_json(event.params),
            "outcome": event.outcome,
            "message": event.message,
            "correlation_id": event.correlation_id,
            "prev_hash": prev_hash,
        }
        for name, value in values.items():  # provider words may hold what no column can store
            if isinstance(value, str):
                values[name] = storable_text(value)
        values["hash"] = chain_hash(prev_hash, content_json(values))
        if key is not None:
            checkpoint_id = head.checkpoint_id if head is not None else None
            if head is None:
                last = await self._last_checkpoint(conn)
                checkpoint_id = last.id if last else None
            values["key_id"] = key.key_id
            values["checkpoint_id"] = checkpoint_id
            values["mac"] = key.row_mac(values["id"], checkpoint_id, values["hash"])
        await conn.execute(_INSERT_ENTRY, values)
        entry_id = int(values["id"])
        await self._maybe_checkpoint(conn, entry_id, values["hash"])
        return AuditRecord.from_row(values)

    async def _has_signed_checkpoint(self, conn: AsyncConnection, head: _Head | None) -> bool:
        if head is not None and head.checkpoint_id is None:
            return False
        last = await self._last_checkpoint(conn)
        return last is not None and last.key_id is not None

    async def _maybe_checkpoint(self, conn: AsyncConnection, entry_id: int, digest: str) -> None:
        # The cached entry id is only a hint: another replica (or the periodic
        # checkpoint) may have written a newer checkpoint. When the hint says one
        # is due, re-read the latest under the writer lock before writing.
        cached = self._last_checkpoint_entry
        if cached is not None and entry_id - cached < self._checkpoint_every:
            return
        last = await self._last_checkpoint(conn)
        self._last_checkpoint_entry = last.entry_id if last else 0
        if entry_id - self._last_checkpoint_entry >= self._checkpoint_every:
            await self._add_checkpoint(conn, "checkpoint", entry_id, digest)

    async def _add_checkpoint(
        self, conn: AsyncConnection, kind: str, entry_id: int, entry_hash: str
    ) -> Checkpoint:
        last = await self._last_checkpoint(conn)
        prev_hash = last.hash if last else GENESIS
        created_at = self._clock().astimezone(UTC)
        checkpoint_id = (last.id if last else 0) + 1
        digest = checkpoint_hash(
            prev_hash, kind=kind, entry_id=entry_id, entry_hash=entry_hash, created_at=created_at
        )
        values: dict[str, Any] = {
            "id": checkpoint_id,
            "created_at": to_db_time(created_at),
            "kind": kind,
            "entry_id": entry_id,
            "entry_hash": entry_hash,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        key = self._keys.current
        if key is None and last is not None and last.key_id is not None:
            raise AuditKeyRequired(
                "the audit log has signed checkpoints: set STREAMOPS_AUDIT_KEY to add one"
            )
        if key is not None:
            if last is not None and last.key_id is not None:
                unkeyed_until = last.unkeyed_until or 0
            else:
                unkeyed_until = await self._last_unkeyed(conn)
            values["key_id"] = key.key_id
            values["unkeyed_until"] = unkeyed_until
            values["signature"] = key.sign_checkpoint(
                checkpoint_content(
                    checkpoint_id=checkpoint_id,
                    kind=kind,
                    entry_id=entry_id,
                    entry_hash=entry_hash,
                    created_at=created_at,
                    prev_hash=prev_hash,
                    hash=digest,
                    key_id=key.key_id,
                    unkeyed_until=unkeyed_until,
                )
            )
        await conn.execute(insert(CHECKPOINTS).values(**values))
        self._last_checkpoint_entry = entry_id
        return Checkpoint(
            checkpoint_id,
            kind,
            entry_id,
            entry_hash,
            digest,
            created_at=created_at,
            prev_hash=prev_hash,
            key_id=values.get("key_id"),
            signature=values.get("signature"),
            unkeyed_until=values.get("unkeyed_until"),
        )

    async def _last_unkeyed(self, conn: AsyncConnection) -> int:
        """The last row written without a key (0: none); read once, when the key first signs."""
        newest = (
            await conn.execute(select(func.max(ENTRIES.c.id)).where(ENTRIES.c.key_id.is_(None)))
        ).scalar_one()
        if newest is not None:
            return int(newest)
        anchor = await self._last_checkpoint(conn, "purge")
        first_keyed = (
            await conn.execute(select(func.min(ENTRIES.c.id)).where(ENTRIES.c.key_id.is_not(None)))
        ).scalar_one()
        # Rows purged before the key was used were unkeyed too.
        if anchor is not None and (first_keyed is None or first_keyed > anchor.entry_id):
            return anchor.entry_id
        return 0

    async def _head(self, conn: AsyncConnection) -> _Head | None:
        """The newest row, with the newest checkpoint id read in the same statement."""
        row = (await conn.execute(_HEAD)).first()
        if row is None:
            return None
        return _Head(int(row[0]), str(row[1]), row[2], None if row[3] is None else int(row[3]))

    async def _last_checkpoint(
        self, conn: AsyncConnection, kind: str | None = None
    ) -> Checkpoint | None:
        query = select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)
        if kind is not None:
            query = query.where(CHECKPOINTS.c.kind == kind)
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return Checkpoint(
            row["id"],
            row["kind"],
            row["entry_id"],
            row["entry_hash"],
            row["hash"],
            created_at=from_db_time(row["created_at"]),
            prev_hash=row["prev_hash"],
            key_id=row["key_id"],
            signature=row["signature"],
            unkeyed_until=row["unkeyed_until"],
        )

    # ------------------------------------------------------------ reading

    async def query(self, filters: AuditFilters, *, limit: int = DEFAULT_PAGE_SIZE) -> AuditPage:
        """One page (``filters.page``) of matching rows, newest ``requested_at`` first.

        Args:
            filters: what to match; ``page`` selects the page.
            limit: rows per page (1 to 1000).
        """
        if not 1 <= limit <= 1_000:
            raise InvalidInput("page size must be between 1 and 1000")
        query = (
            select(ENTRIES)
            .where(*_conditions(filters))
            .order_by(ENTRIES.c.requested_at.desc(), ENTRIES.c.id.desc())
            .limit(limit + 1)
            .offset((filters.page - 1) * limit)
        )
        rows = await self._read(query)
        records = [AuditRecord.from_row(row) for row in rows[:limit]]
        return AuditPage(records, filters.page, limit, has_more=len(rows) > limit)

    async def _read(self, query: Select[Any]) -> Sequence[Mapping[str, Any]]:
        """Run a SELECT on a read-only connection (no write lock on SQLite)."""
        async with self._db.read() as conn:
            result = await conn.execute(query)
            return list(result.mappings().all())

    async def summary(self, filters: AuditFilters, *, top: int = 10) -> AuditSummary:
        """Counts of matching rows in total, by action, by actor and by outcome."""
        where = _conditions(filters)
        count = func.count().label("n")
        async with self._db.read() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(ENTRIES).where(*where))
            ).scalar_one()
            by_action = (
                await conn.execute(
                    select(ENTRIES.c.action, count)
                    .where(*where)
                    .group_by(ENTRIES.c.action)
                    .order_by(count.desc(), ENTRIES.c.action)
                    .limit(top)
                )
            ).all()
            by_actor = (
                await conn.execute(
                    select(ENTRIES.c.actor_id, func.max(ENTRIES.c.actor_name), count)
                    .where(*where)
                    .group_by(ENTRIES.c.actor_id)
                    .order_by(count.desc(), ENTRIES.c.actor_id)
                    .limit(top)
                )
            ).all()
            by_outcome = (
                await conn.execute(
                    select(ENTRIES.c.outcome, count)
                    .where(*where)
                    .group_by(ENTRIES.c.outcome)
                    .order_by(count.desc(), ENTRIES.c.outcome)
                )
            ).all()
        return AuditSummary(
            total=int(total),
            by_action=[(str(a), int(n)) for a, n in by_action],
            by_actor=[(str(a), str(name or ""), int(n)) for a, name, n in by_actor],
            by_outcome=[(str(o), int(n)) for o, n in by_outcome],
        )

    async def iter_records(
        self, filters: AuditFilters, *, up_to_id: int | None = None
    ) -> AsyncIterator[AuditRecord]:
        """Every matching row in chain order (``page`` is ignored), fetched in batches."""
        last_id = 0
        while True:
            query = select(ENTRIES).where(*_conditions(filters), ENTRIES.c.id > last_id)
            if up_to_id is not None:
                query = query.where(ENTRIES.c.id <= up_to_id)
            query = query.order_by(ENTRIES.c.id).limit(_BATCH)
            async with self._db.read() as conn:
                rows = (await conn.execute(query)).mappings().all()
            for row in rows:
                yield AuditRecord.from_row(row)
            if len(rows) < _BATCH:
                return
            last_id = int(rows[-1]["id"])

    async def export(self, filters: AuditFilters, fmt: Literal["csv", "json"], out: IO[str]) -> int:
        """Write every matching row to ``out`` as CSV or JSON; return the row count."""
        records = self.iter_records(filters)
        if fmt == "csv":
            return await write_csv(records, out)
        if fmt == "json":
            return await write_json(records, out, filters=filters.as_text())
        raise InvalidInput(f"unknown export format '{fmt}': use csv or json")

    async def verify(self, witness: WitnessHead | None = None) -> VerifyReport:
        """Walk the whole chain, its checkpoints and the witnessed head; report the first problem.

        Args:
            witness: the newest head from the witness file, if one is kept.
        """
        async with self._db.read() as conn:
            return await verify_chain(conn, ENTRIES, CHECKPOINTS, keys=self._keys, witness=witness)

    # ------------------------------------------------------------ retention

    async def purge(
        self, before: datetime, exported: Sequence[AuditRecord], event: AuditEvent
    ) -> PurgeReport:
        """Delete the oldest rows requested before ``before``, keeping the chain verifiable.

        Only a prefix of the chain can go: rows up to (not including) the first
        one requested at or after ``before``. Every one of them must appear,
        unaltered, in ``exported`` (rows read back from an export file). The
        hash of the last purged row is stored as a purge anchor, and the purge
        itself is appended as ``event`` with the counts added to its params.
        A refused purge is recorded with outcome ``denied`` and re-raised.

        Raises:
            Conflict: the chain does not verify (purging would destroy evidence).
            InvalidInput: the export does not cover every row to be purged.
        """
        try:
            report = await self.verify()
            if not report.ok:
                raise Conflict(
                    f"the audit chain does not verify ({report.describe()}); not purging"
                )
            async with self._db.engine.begin() as conn:
                await self._lock(conn)
                result = await self._purge(conn, before, exported)
                done = _with_params(event, before, result, self._clock())
                await self._append(conn, done)
                return result
        except (Conflict, InvalidInput) as exc:
            await self.append(_refused(event, before, str(exc), self._clock()))
            raise

    async def _purge(
        self, conn: AsyncConnection, before: datetime, exported: Sequence[AuditRecord]
    ) -> PurgeReport:
        first_kept = (
            await conn.execute(
                select(func.min(ENTRIES.c.id)).where(ENTRIES.c.requested_at >= to_db_time(before))
            )
        ).scalar_one()
        cutoff_query = select(ENTRIES.c.id, ENTRIES.c.hash).order_by(ENTRIES.c.id)
        if first_kept is not None:
            cutoff_query = cutoff_query.where(ENTRIES.c.id < first_kept)
        doomed = (await conn.execute(cutoff_query)).all()
        if not doomed:
            return PurgeReport(0, None, None, None)
        covered = {record.id: record for record in exported}
        for entry_id, digest in doomed:
            record = covered.get(int(entry_id))
            if record is None or record.hash != digest or not record.is_intact():
                raise InvalidInput(
                    f"the export does not contain row {entry_id} as stored; export rows "
                    f"{doomed[0][0]}–{doomed[-1][0]} first"
                )
        last_id, last_hash = int(doomed[-1][0]), str(doomed[-1][1])
        await conn.execute(delete(ENTRIES).where(ENTRIES.c.id <= last_id))
        await self._add_checkpoint(conn, "purge", last_id, last_hash)
        return PurgeReport(len(doomed), int(doomed[0][0]), last_id, last_hash)


@dataclass(frozen=True)
class _Head:
    id: int
    hash: str
    key_id: str | None
    checkpoint_id: int | None


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor_id is not None:
        conditions.append(ENTRIES.c.actor_id == filters.actor_id)
    if filters.target is not None:
        conditions.append(ENTRIES.c.target_id == filters.target)
    if filters.action is not None:
        conditions.append(ENTRIES.c.action == filters.action)
    if filters.provider is not None:
        conditions.append(ENTRIES.c.provider == filters.provider)
    if filters.outcome is not None:
        conditions.append(ENTRIES.c.outcome == filters.outcome)
    if filters.since is not None:
        conditions.append(ENTRIES.c.requested_at >= to_db_time(filters.since))
    if filters.until is not None:
        conditions.append(ENTRIES.c.requested_at < to_db_time(filters.until))
    return [and_(*conditions)] if conditions else []


def _with_params(
    event: AuditEvent, before: datetime, report: PurgeReport, now: datetime
) -> AuditEvent:
    params = {
        **event.params,
        "before": iso(before),
        "purged": report.purged,
        "first_id": report.first_id,
        "last_id": report.last_id,
        "anchor_hash": report.anchor_hash,
    }
    return _replace(event, params=params, outcome="ok", completed_at=now)


def _refused(event: AuditEvent, before: datetime, why: str, now: datetime) -> AuditEvent:
    params = {**event.params, "before": iso(before)}
    return _replace(event, params=params, outcome="denied", message=why, completed_at=now)


def _replace(event: AuditEvent, **changes: Any) -> AuditEvent:
    return replace(event, **changes)
