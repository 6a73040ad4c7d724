"""Walk the audit chain and its checkpoints, reporting the first problem and what it is.

The row id is the sequence number. What each tamper looks like:

- **edited**: a row's content no longer matches its hash; a keyed row
  re-hashed without the key (its MAC fails) that a checkpoint already covered;
  an edited checkpoint (its hash or signature fails);
- **missing**: a gap in the sequence of keyed rows (deleted, re-linked or
  not); an unkeyed row whose successor links past it; a checkpoint named by a
  row or by the checkpoint after it that is gone;
- **inserted**: a row no key authenticates past everything a checkpoint
  covers (appended with the public algorithm); an unkeyed row slipped in;
- **truncated**: a checkpoint, or the newest witnessed head, names a row (or
  a checkpoint) past the end of what is left;
- **bad key**: a row or checkpoint signed with a key id that is not
  configured, with the key id replaced, or with its key stripped;
- **reordered**: an authentic row found at another sequence number.

Rows written before the key (revision 0009) carry no key and verify with the
plain hash chain as before; the report counts them as unkeyed. Once a key
has signed a row or a checkpoint, every later row must be keyed.
"""

from __future__ import annotations

import hmac
import json
import operator
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import String, Table, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.audit_chain import (
    CONTENT_FIELDS,
    GENESIS,
    chain_hash,
    checkpoint_hash,
    from_db_time,
    iso,
)
from storage.audit_keys import KeyRing, checkpoint_content, row_mac
from storage.audit_witness import WitnessHead

Problem = Literal["edited", "missing", "inserted", "truncated", "bad key", "reordered"]

_BATCH = 10_000
_WINDOW = 1_024
_ROW_COLUMNS = ("id", *CONTENT_FIELDS, "prev_hash", "hash", "key_id", "mac", "checkpoint_id")
_ID, _PREV, _HASH, _KEY, _MAC, _CKPT = (
    0,
    len(CONTENT_FIELDS) + 1,
    len(CONTENT_FIELDS) + 2,
    len(CONTENT_FIELDS) + 3,
    len(CONTENT_FIELDS) + 4,
    len(CONTENT_FIELDS) + 5,
)
_TIME_FIELDS = {CONTENT_FIELDS.index("requested_at") + 1, CONTENT_FIELDS.index("completed_at") + 1}
# The canonical content (storage.audit_chain.content_json) written field by field:
# keys sorted, compact separators, strings escaped exactly as json.dumps(ensure_ascii=False).
_PLAN = tuple(
    (CONTENT_FIELDS.index(name) + 1, json.dumps(name) + ":") for name in sorted(CONTENT_FIELDS)
)
_escape = json.encoder.encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses
_content_values = operator.itemgetter(*(index for index, _ in _PLAN))
_TEMPLATE = "{" + ",".join(prefix.replace("%", "%%") + "%s" for _, prefix in _PLAN) + "}"


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a chain walk.

    Attributes:
        ok: True when nothing was found wrong.
        rows_checked: entries whose hash, link (and MAC) were checked.
        first_bad_id: the first bad sequence number (row id).
        bad_checkpoint_id: the checkpoint found edited, missing or naming a missing row.
        reason: what is wrong, in words ("" when ok).
        problem: what is wrong, in one word (see :data:`Problem`).
        head_id: the sequence number of the last entry checked.
        head_hash: its hash.
        unkeyed_rows: rows written before the key (plain hash chain only).
        keyed_rows: rows authenticated with a key.
        key_ids: the key ids those rows were signed with, in order of first use.
        checkpoints: checkpoints checked; ``signed_checkpoints`` of them signed.
        witness: what the witnessed head check found ("" when no witness was given).
    """

    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    bad_checkpoint_id: int | None = None
    reason: str = ""
    problem: Problem | None = None
    head_id: int | None = None
    head_hash: str | None = None
    unkeyed_rows: int = 0
    keyed_rows: int = 0
    key_ids: tuple[str, ...] = ()
    checkpoints: int = 0
    signed_checkpoints: int = 0
    witness: str = ""

    def describe(self) -> str:
        """One line for people."""
        if self.ok:
            return (
                f"ok: {self.rows_checked} rows verified ({self.keyed_rows} keyed,"
                f" {self.unkeyed_rows} unkeyed), head {self.head_id} {self.head_hash}"
            )
        where = f" at sequence number {self.first_bad_id}" if self.first_bad_id else ""
        return f"FAILED ({self.problem}{where}) after {self.rows_checked} rows: {self.reason}"

    def details(self) -> list[str]:
        """The lines after :meth:`describe`: keys, checkpoints, unkeyed rows, witness."""
        lines = [
            f"checkpoints: {self.checkpoints} checked, {self.signed_checkpoints} signed",
            f"keys: {', '.join(self.key_ids) or 'none'}",
        ]
        if self.unkeyed_rows:
            lines.append(
                f"unkeyed: {self.unkeyed_rows} rows from before the audit key"
                " (plain hash chain only)"
            )
        if self.witness:
            lines.append(f"witness: {self.witness}")
        return lines


class _PendingMac(Exception):
    """A keyed row whose MAC fails; :meth:`_Walk._bad_mac` (async) finds out why."""

    def __init__(self, row: list[Any]) -> None:
        super().__init__("bad MAC")
        self.row = row


class _Failed(Exception):
    def __init__(
        self, problem: Problem, reason: str, *, row: int | None = None, cp: int | None = None
    ) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason
        self.row = row
        self.cp = cp


def canonical_time(value: Any) -> str | None:
    """A stored time as canonical text; SQLite's own text is converted without parsing."""
    if value is None:
        return None
    if isinstance(value, str):
        # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'.
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return value[:10] + "T" + value[11:] + "Z"
        return iso(datetime.fromisoformat(value))
    return iso(value)


def fast_content(row: Sequence[Any]) -> str:
    """The canonical content of a row tuple in :data:`_ROW_COLUMNS` order (times as text)."""
    try:
        return _TEMPLATE % tuple(map(_escape, _content_values(row)))
    except TypeError:  # a NULL (or, tampered, a non-text value): the general path
        return _TEMPLATE % tuple([_json_value(value) for value in _content_values(row)])


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return str(_escape(value))
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Checkpoints:
    rows: list[Mapping[Any, Any]] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)
    signed: int = 0
    anchor_id: int = 0
    anchor_hash: str = GENESIS
    unkeyed_until: int | None = None
    covered: int = 0
    key_ids: list[str] = field(default_factory=list)


async def verify_chain(
    conn: AsyncConnection,
    entries: Table,
    checkpoints: Table,
    *,
    keys: KeyRing | None = None,
    witness: WitnessHead | None = None,
) -> VerifyReport:
    """Verify the checkpoint chain, every entry after the purge anchor, and the witness.

    Args:
        conn: an open connection.
        entries: the ``audit_entries`` table.
        checkpoints: the ``audit_checkpoints`` table.
        keys: the current and retired audit keys (None: no key configured).
        witness: the newest witnessed head, when a witness file was given.
    """
    walk = _Walk(conn, entries, checkpoints, keys or KeyRing(), witness)
    try:
        return await walk.run()
    except _Failed as failed:
        return walk.report(failed)


class _Walk:
    def __init__(
        self,
        conn: AsyncConnection,
        entries: Table,
        checkpoints: Table,
        keys: KeyRing,
        witness: WitnessHead | None,
    ) -> None:
        self.conn = conn
        self.entries = entries
        self.checkpoints = checkpoints
        self.keys = keys
        self.witness = witness
        self.cps = _Checkpoints()
        self.checked = 0
        self.keyed = 0
        self.unkeyed = 0
        self.key_ids: list[str] = []
        self.head_id: int | None = None
        self.head_hash: str | None = None
        self.witness_note = ""
        self.pending: dict[int, Mapping[Any, Any]] = {}

    def report(self, failed: _Failed | None = None) -> VerifyReport:
        return VerifyReport(
            ok=failed is None,
            rows_checked=self.checked,
            first_bad_id=failed.row if failed else None,
            bad_checkpoint_id=failed.cp if failed else None,
            reason=failed.reason if failed else "",
            problem=failed.problem if failed else None,
            head_id=None if failed else self.head_id,
            head_hash=None if failed else self.head_hash,
            unkeyed_rows=self.unkeyed,
            keyed_rows=self.keyed,
            key_ids=tuple(dict.fromkeys([*self.cps.key_ids, *self.key_ids])),
            checkpoints=len(self.cps.rows),
            signed_checkpoints=self.cps.signed,
            witness=self.witness_note,
        )

    async def run(self) -> VerifyReport:
        await self._checkpoints()
        await self._stale_rows()
        await self._rows()
        self._witness()
        return self.report()

    # ------------------------------------------------------------ checkpoints

    async def _checkpoints(self) -> None:
        table = self.checkpoints
        rows = (await self.conn.execute(select(table).order_by(table.c.id))).mappings().all()
        cps = self.cps
        cps.rows = list(rows)
        prev = GENESIS
        seen: dict[str, int] = {GENESIS: 0}
        previous_id = 0
        for cp in rows:
            cp_id = int(cp["id"])
            created = from_db_time(cp["created_at"])
            assert created is not None  # NOT NULL
            expected = checkpoint_hash(
                cp["prev_hash"],
                kind=cp["kind"],
                entry_id=cp["entry_id"],
                entry_hash=cp["entry_hash"],
                created_at=created,
            )
            if cp["hash"] != expected:
                raise _Failed("edited", f"checkpoint {cp_id} was edited", cp=cp_id)
            if cp["key_id"] is not None and cp_id != previous_id + 1:
                first = previous_id + 1
                span = (
                    f"checkpoint {first}"
                    if first == cp_id - 1
                    else f"checkpoints {first}–{cp_id - 1}"
                )
                raise _Failed(
                    "missing",
                    f"{span} missing: the signed checkpoints jump from {previous_id or 'the start'}"
                    f" to {cp_id} (deleted)",
                    cp=first,
                )
            if cp["prev_hash"] != prev:
                if cp["prev_hash"] in seen:
                    raise _Failed(
                        "missing",
                        f"checkpoint {cp_id} links to checkpoint {seen[cp['prev_hash']]}:"
                        " the checkpoints between them were deleted",
                        cp=cp_id,
                    )
                raise _Failed(
                    "edited",
                    f"checkpoint {cp_id} does not link to the checkpoint before it: that one"
                    " was rewritten, or this one was inserted",
                    cp=cp_id,
                )
            self._check_signature(cp, created)
            prev = cp["hash"]
            previous_id = cp_id
            seen[prev] = cp_id
            cps.ids.add(cp_id)
            cps.covered = max(cps.covered, int(cp["entry_id"]))
            if cp["kind"] == "purge":
                cps.anchor_id, cps.anchor_hash = int(cp["entry_id"]), str(cp["entry_hash"])
        self.pending = {
            int(cp["entry_id"]): cp
            for cp in rows
            if cp["kind"] == "checkpoint" and cp["entry_id"] > cps.anchor_id
        }

    def _check_signature(self, cp: Mapping[Any, Any], created: Any) -> None:
        cps = self.cps
        cp_id = int(cp["id"])
        if cp["key_id"] is None:
            if cps.signed:
                raise _Failed(
                    "bad key",
                    f"checkpoint {cp_id} is not signed but follows signed checkpoints"
                    " (its signature was stripped, or it was inserted)",
                    cp=cp_id,
                )
            return
        args = _cp_args(cp, created)
        key = self.keys.get(cp["key_id"])
        if key is None:
            raise _Failed("bad key", self._unknown_key("checkpoint", cp_id, cp["key_id"]), cp=cp_id)
        signature = str(cp["signature"] or "")
        if not hmac.compare_digest(key.sign_checkpoint(checkpoint_content(**args)), signature):
            for other in self.keys.all():
                content = checkpoint_content(**{**args, "key_id": other.key_id})
                if other is not key and hmac.compare_digest(
                    other.sign_checkpoint(content), signature
                ):
                    raise _Failed(
                        "bad key",
                        f"checkpoint {cp_id} names key {cp['key_id']} but was signed with key"
                        f" {other.key_id}: its key id was replaced",
                        cp=cp_id,
                    )
            raise _Failed(
                "edited",
                f"checkpoint {cp_id} does not match its signature: edited or forged"
                " without the key",
                cp=cp_id,
            )
        cps.signed += 1
        if cp["key_id"] not in cps.key_ids:
            cps.key_ids.append(cp["key_id"])
        until = int(cp["unkeyed_until"] or 0)
        cps.unkeyed_until = until if cps.unkeyed_until is None else min(cps.unkeyed_until, until)

    def _unknown_key(self, what: str, ident: int, key_id: str) -> str:
        if not self.keys.all():
            return (
                f"{what} {ident} is signed with key {key_id}, but no audit key is configured"
                " (set STREAMOPS_AUDIT_KEY, and retired keys in STREAMOPS_AUDIT_KEYS)"
            )
        return (
            f"{what} {ident} is signed with key {key_id}, which is neither the current key"
            f" nor a retired one ({', '.join(self.keys.ids())}): unknown key id"
        )

    # ------------------------------------------------------------ rows

    async def _stale_rows(self) -> None:
        entries, anchor_id = self.entries, self.cps.anchor_id
        stale = (
            await self.conn.execute(select(func.min(entries.c.id)).where(entries.c.id <= anchor_id))
        ).scalar_one()
        if stale is not None:
            raise _Failed(
                "inserted",
                f"row {stale} predates the purge anchor (row {anchor_id}): inserted",
                row=int(stale),
            )

    async def _batch(self, after: int, limit: int = _BATCH) -> Sequence[Sequence[Any]]:
        t = self.entries
        # Times as the driver gives them (SQLite: text), converted by canonical_time.
        times = ("requested_at", "completed_at")
        columns = [
            type_coerce(t.c[name], String) if name in times else t.c[name] for name in _ROW_COLUMNS
        ]
        query = select(*columns).where(t.c.id > after).order_by(t.c.id).limit(limit)
        return (await self.conn.execute(query)).all()

    async def _rows(self) -> None:
        cps = self.cps
        expected_prev, prev_id = cps.anchor_hash, cps.anchor_id
        keyed_seen = False
        recent: deque[tuple[int, str]] = deque(maxlen=_WINDOW)
        row_keys = {k.key_id: k.row_key for k in self.keys.all()}
        last_id = cps.anchor_id
        while True:
            rows = await self._batch(last_id)
            try:
                expected_prev, prev_id, keyed_seen = self._check_batch(
                    rows, expected_prev, prev_id, keyed_seen, recent, row_keys
                )
            except _PendingMac as bad:
                raise await self._bad_mac(bad.row, row_keys) from None
            if len(rows) < _BATCH:
                break
            last_id = int(rows[-1][_ID])
        self._finish(prev_id, expected_prev)

    def _check_batch(
        self,
        rows: Sequence[Sequence[Any]],
        expected_prev: str,
        prev_id: int,
        keyed_seen: bool,
        recent: deque[tuple[int, str]],
        row_keys: Mapping[str, bytes],
    ) -> tuple[str, int, bool]:
        must_key_after = self.cps.unkeyed_until  # rows after this id must be keyed
        pending = self.pending
        for raw in rows:
            row = list(raw)
            for index in _TIME_FIELDS:
                row[index] = canonical_time(row[index])
            row_id = int(row[_ID])
            digest = row[_HASH]
            key_id = row[_KEY]
            intact = chain_hash(row[_PREV], fast_content(row)) == digest
            if (
                key_id is None
                and not keyed_seen
                and (must_key_after is None or row_id <= must_key_after)
            ):
                # An unkeyed row from before the key: the plain hash chain, as before.
                if row[_PREV] != expected_prev:
                    raise _broken_link(row_id, prev_id, str(row[_PREV]), recent)
                if not intact:
                    raise _edited(row_id)
                self.unkeyed += 1
            else:
                keyed_seen = True
                self._keyed_row(row, intact, prev_id, expected_prev, row_keys)
            if row_id in pending:
                named = pending.pop(row_id)
                if named["entry_hash"] != digest:
                    raise _Failed(
                        "edited",
                        f"row {row_id} differs from checkpoint {named['id']}: chain rewritten",
                        row=row_id,
                        cp=int(named["id"]),
                    )
            self.checked += 1
            expected_prev, prev_id = digest, row_id
            recent.append((row_id, digest))
        return expected_prev, prev_id, keyed_seen

    def _finish(self, prev_id: int, expected_prev: str) -> None:
        cps, pending = self.cps, self.pending
        self.head_id = prev_id or None
        self.head_hash = expected_prev if self.checked or cps.anchor_id else None
        if pending:
            missing = min(pending)
            cp = pending[missing]
            where = "the log was truncated" if missing > prev_id else "the row was deleted"
            raise _Failed(
                "truncated" if missing > prev_id else "missing",
                f"row {missing} named by checkpoint {cp['id']} is missing: {where}"
                f" (last row present: {prev_id or 'none'})",
                row=prev_id + 1 if missing > prev_id else missing,
                cp=int(cp["id"]),
            )

    def _keyed_row(
        self,
        row: list[Any],
        intact: bool,
        prev_id: int,
        expected_prev: str,
        row_keys: Mapping[str, bytes],
    ) -> None:
        """Check a row that must be keyed; raise :class:`_Failed` naming what is wrong."""
        row_id, key_id = int(row[_ID]), row[_KEY]
        if not intact:
            raise _edited(row_id)
        if row_id != prev_id + 1:
            first = prev_id + 1
            span = f"row {first}" if first == row_id - 1 else f"rows {first}–{row_id - 1}"
            raise _Failed(
                "missing",
                f"{span} missing: the sequence jumps from {prev_id or 'the start'} to {row_id}"
                " (deleted)",
                row=first,
            )
        if key_id is None:
            raise self._unauthentic(row_id, "carries no key, but follows keyed rows", stripped=True)
        row_key = row_keys.get(key_id)
        if row_key is None:
            raise _Failed("bad key", self._unknown_key("row", row_id, key_id), row=row_id)
        mac = row_mac(row_key, key_id, row_id, row[_CKPT], row[_HASH])
        if not hmac.compare_digest(mac, str(row[_MAC] or "")):
            raise _PendingMac(row)
        if row[_PREV] != expected_prev:
            raise _Failed(
                "edited",
                f"row {row_id} does not link to row {prev_id or 'the chain start'}:"
                f" row {prev_id} was rewritten",
                row=prev_id or row_id,
            )
        ckpt = row[_CKPT]
        if ckpt and ckpt not in self.cps.ids:
            raise _Failed(
                "missing",
                f"checkpoint {ckpt}, which row {row_id} saw, is missing: checkpoints were deleted",
                row=row_id,
                cp=int(ckpt),
            )
        self.keyed += 1
        if key_id not in self.key_ids:
            self.key_ids.append(key_id)

    def _unauthentic(self, row_id: int, why: str, *, stripped: bool = False) -> _Failed:
        if row_id <= self.covered():
            problem: Problem = "bad key" if stripped else "edited"
            what = "its key was stripped" if stripped else "re-hashed without the key"
            return _Failed(
                problem,
                f"row {row_id} {why}: a signed checkpoint covers it, so it was changed after"
                f" the fact ({what})",
                row=row_id,
            )
        return _Failed(
            "inserted",
            f"row {row_id} {why}: no key authenticates it, it was inserted (forged)",
            row=row_id,
        )

    def covered(self) -> int:
        witnessed = self.witness.entry_id if self.witness is not None else 0
        return max(self.cps.covered, witnessed)

    async def _bad_mac(self, row: list[Any], row_keys: Mapping[str, bytes]) -> _Failed:
        row_id, key_id, digest, mac = row[_ID], row[_KEY], row[_HASH], str(row[_MAC] or "")
        for other_id, other_key in row_keys.items():
            if other_id != key_id and hmac.compare_digest(
                row_mac(other_key, other_id, row_id, row[_CKPT], digest), mac
            ):
                return _Failed(
                    "bad key",
                    f"row {row_id} names key {key_id} but was signed with key {other_id}:"
                    " its key id was replaced",
                    row=row_id,
                )
        moved_from = await self._authentic_at(row, row_keys[key_id])
        if moved_from is not None:
            return _Failed(
                "reordered",
                f"row {row_id} holds the authentic row {moved_from}: rows were moved"
                " (re-ordered or swapped)",
                row=row_id,
            )
        if await self._next_is_authentic_at(row_id, row_keys):
            return _Failed(
                "inserted",
                f"row {row_id} is not authenticated by the key and the authentic row {row_id}"
                f" now sits after it: row {row_id} was inserted (later rows shifted)",
                row=row_id,
            )
        return self._unauthentic(row_id, "does not match its MAC")

    async def _next_is_authentic_at(self, row_id: int, row_keys: Mapping[str, bytes]) -> bool:
        """True when the row after ``row_id`` is the authentic row of sequence ``row_id``."""
        rows = await self._batch(row_id, limit=1)
        if not rows:
            return False
        after = list(rows[0])
        key = row_keys.get(after[_KEY]) if after[_KEY] is not None else None
        if key is None:
            return False
        mac = row_mac(key, after[_KEY], row_id, after[_CKPT], after[_HASH])
        return hmac.compare_digest(mac, str(after[_MAC] or ""))

    async def _authentic_at(self, row: list[Any], row_key: bytes) -> int | None:
        """The sequence number this row's MAC was made for, if it is another one."""
        top = (await self.conn.execute(select(func.max(self.entries.c.id)))).scalar_one() or 0
        row_id: int = row[_ID]
        key_id, ckpt, digest, mac = row[_KEY], row[_CKPT], row[_HASH], row[_MAC]
        for distance in range(1, max(top, row_id) + 1):
            for seq in (row_id - distance, row_id + distance):
                if seq > 0 and hmac.compare_digest(
                    row_mac(row_key, key_id, seq, ckpt, digest), str(mac or "")
                ):
                    return seq
        return None

    # ------------------------------------------------------------ witness

    def _witness(self) -> None:
        head = self.witness
        if head is None:
            return
        if not head.signed_by(self.keys):
            raise _Failed(
                "bad key",
                f"the newest witnessed head, {head.describe()}, is not signed by a configured"
                f" key (key id {head.key_id})",
            )
        stored = next((cp for cp in self.cps.rows if int(cp["id"]) == head.checkpoint_id), None)
        if stored is None:
            raise _Failed(
                "truncated",
                f"the newest witnessed head, {head.describe()}, is not in the database:"
                f" the log was truncated (last row present: {self.head_id or 'none'},"
                f" {len(self.cps.rows)} checkpoints left)",
                row=(self.head_id or self.cps.anchor_id) + 1,
                cp=head.checkpoint_id,
            )
        if stored["hash"] != head.hash or int(stored["entry_id"]) != head.entry_id:
            raise _Failed(
                "edited",
                f"checkpoint {head.checkpoint_id} differs from its witnessed head"
                f" ({head.describe()})",
                cp=head.checkpoint_id,
            )
        self.witness_note = f"newest witnessed head {head.describe()} matches"


def _edited(row_id: int) -> _Failed:
    return _Failed(
        "edited", f"row {row_id} was edited: its content does not match its hash", row=row_id
    )


def _cp_args(cp: Mapping[Any, Any], created: Any) -> dict[str, Any]:
    return {
        "checkpoint_id": int(cp["id"]),
        "kind": cp["kind"],
        "entry_id": cp["entry_id"],
        "entry_hash": cp["entry_hash"],
        "created_at": created,
        "prev_hash": cp["prev_hash"],
        "hash": cp["hash"],
        "key_id": cp["key_id"],
        "unkeyed_until": cp["unkeyed_until"] or 0,
    }


def _broken_link(
    row_id: int, prev_id: int, prev_hash: str, recent: deque[tuple[int, str]]
) -> _Failed:
    window = list(recent)
    for index, (earlier_id, digest) in enumerate(window):
        if digest == prev_hash:
            inserted = window[index + 1][0] if index + 1 < len(window) else prev_id
            return _Failed(
                "inserted",
                f"row {inserted} was inserted out of order: row {row_id} links to"
                f" row {earlier_id}, skipping it",
                row=inserted,
            )
    return _Failed(
        "missing",
        f"row {row_id} does not link to row {prev_id or 'the chain start'}: a row between"
        f" them was deleted, or row {prev_id} was rewritten",
        row=row_id,
    )
