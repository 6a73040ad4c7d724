"""Walk the audit chain and its checkpoints, reporting the first problem.

What each tamper looks like:

- an edited row: its content no longer hashes to its ``hash``;
- an edited and re-hashed row: the next row's ``prev_hash`` no longer matches;
- a deleted row: the next row's ``prev_hash`` names a row that is gone;
- a row inserted out of order: the row after it links past it, to an earlier row;
- a truncated tail: a checkpoint names a row that no longer exists;
- an edited checkpoint: the checkpoint chain breaks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.audit_chain import GENESIS, chain_hash, checkpoint_hash, content_json, from_db_time

_BATCH = 10_000
_WINDOW = 1_024


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a chain walk.

    Attributes:
        ok: True when nothing was found wrong.
        rows_checked: entries whose hash and link were checked.
        first_bad_id: the first entry found edited, inserted or following a deletion.
        bad_checkpoint_id: the checkpoint found edited or naming a missing row.
        reason: what is wrong, in words ("" when ok).
        head_id: the id of the last entry checked.
        head_hash: its hash (publish it to detect later truncation).
    """

    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    bad_checkpoint_id: int | None = None
    reason: str = ""
    head_id: int | None = None
    head_hash: str | None = None

    def describe(self) -> str:
        """One line for people."""
        if self.ok:
            return f"ok: {self.rows_checked} rows verified, head {self.head_id} {self.head_hash}"
        return f"FAILED after {self.rows_checked} rows: {self.reason}"


async def verify_chain(conn: AsyncConnection, entries: Table, checkpoints: Table) -> VerifyReport:
    """Verify the checkpoint chain, then every entry after the purge anchor.

    Args:
        conn: an open connection.
        entries: the ``audit_entries`` table.
        checkpoints: the ``audit_checkpoints`` table.
    """
    cps = (await conn.execute(select(checkpoints).order_by(checkpoints.c.id))).mappings().all()
    prev = GENESIS
    anchor_id, anchor_hash = 0, GENESIS
    for cp in cps:
        expected = checkpoint_hash(
            prev,
            kind=cp["kind"],
            entry_id=cp["entry_id"],
            entry_hash=cp["entry_hash"],
            created_at=from_db_time(cp["created_at"]),  # type: ignore[arg-type]  # NOT NULL
        )
        if cp["prev_hash"] != prev or cp["hash"] != expected:
            return VerifyReport(
                False,
                0,
                bad_checkpoint_id=cp["id"],
                reason=f"checkpoint {cp['id']} was edited or inserted, or one before it deleted",
            )
        prev = cp["hash"]
        if cp["kind"] == "purge":
            anchor_id, anchor_hash = cp["entry_id"], cp["entry_hash"]
    pending = {
        cp["entry_id"]: cp
        for cp in cps
        if cp["kind"] == "checkpoint" and cp["entry_id"] > anchor_id
    }

    stale = (
        await conn.execute(select(func.min(entries.c.id)).where(entries.c.id <= anchor_id))
    ).scalar_one()
    if stale is not None:
        return VerifyReport(
            False,
            0,
            first_bad_id=int(stale),
            reason=f"row {stale} predates the purge anchor (row {anchor_id}): inserted",
        )

    expected_prev, prev_id = anchor_hash, anchor_id
    recent: deque[tuple[int, str]] = deque(maxlen=_WINDOW)
    checked = 0
    last_id = anchor_id
    while True:
        rows = (
            (
                await conn.execute(
                    select(entries)
                    .where(entries.c.id > last_id)
                    .order_by(entries.c.id)
                    .limit(_BATCH)
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            row_id = int(row["id"])
            if row["prev_hash"] != expected_prev:
                return _broken_link(row_id, prev_id, str(row["prev_hash"]), recent, checked)
            if chain_hash(expected_prev, content_json(row)) != row["hash"]:
                return VerifyReport(
                    False,
                    checked,
                    first_bad_id=row_id,
                    reason=f"row {row_id} was edited: its content does not match its hash",
                )
            named = pending.pop(row_id) if row_id in pending else None
            if named is not None and named["entry_hash"] != row["hash"]:
                return VerifyReport(
                    False,
                    checked,
                    first_bad_id=row_id,
                    bad_checkpoint_id=named["id"],
                    reason=f"row {row_id} differs from checkpoint {named['id']}: chain rewritten",
                )
            checked += 1
            expected_prev, prev_id = str(row["hash"]), row_id
            recent.append((row_id, expected_prev))
        if len(rows) < _BATCH:
            break
        last_id = int(rows[-1]["id"])

    if pending:
        missing = min(pending)
        cp = pending[missing]
        where = "the log was truncated" if missing > prev_id else "the row was deleted"
        return VerifyReport(
            False,
            checked,
            bad_checkpoint_id=cp["id"],
            reason=f"row {missing} named by checkpoint {cp['id']} is missing: {where}"
            f" (last row present: {prev_id or 'none'})",
        )
    head_hash = expected_prev if checked or anchor_id else None
    return VerifyReport(True, checked, head_id=prev_id or None, head_hash=head_hash)


def _broken_link(
    row_id: int, prev_id: int, prev_hash: str, recent: deque[tuple[int, str]], checked: int
) -> VerifyReport:
    window = list(recent)
    for index, (earlier_id, digest) in enumerate(window):
        if digest == prev_hash:
            inserted = window[index + 1][0] if index + 1 < len(window) else prev_id
            return VerifyReport(
                False,
                checked,
                first_bad_id=inserted,
                reason=f"row {inserted} was inserted out of order: row {row_id} links to"
                f" row {earlier_id}, skipping it",
            )
    return VerifyReport(
        False,
        checked,
        first_bad_id=row_id,
        reason=f"row {row_id} does not link to row {prev_id or 'the chain start'}: a row between"
        f" them was deleted, or row {prev_id} was rewritten",
    )
