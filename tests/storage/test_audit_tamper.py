"""The tamper suite: someone with write access to the database, but not the key, edits the log.

Every scenario starts from the same keyed log (17 rows, checkpoints after
rows 6, 12 and 15, each head appended to a witness file), tampers with it
through raw SQL, and expects ``verify`` to fail with the right problem at the
right sequence number, on SQLite and PostgreSQL. The first six scenarios are
the ones the unkeyed log missed (issue 16).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from bot.audit import AuditEvent
from storage.audit import CHECKPOINTS, ENTRIES, AuditLog
from storage.audit_chain import GENESIS, chain_hash, content_json
from storage.audit_keys import KeyRing, generate_key
from storage.audit_verify import VerifyReport
from storage.audit_witness import append_head, newest_head
from storage.db import Database

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
KEY = generate_key()
OLD_KEY = generate_key()


@dataclass
class Log:
    """The log under attack, its database and the witness file."""

    db: Database
    log: AuditLog
    witness: Path
    clock: list[datetime]

    async def sql(self, statement: str, **params: Any) -> None:
        """Run SQL as the attacker."""
        async with self.db.engine.begin() as conn:
            await conn.execute(text(statement), params)

    async def rows(self) -> list[dict[str, Any]]:
        """Every row as stored (naive UTC times), in id order."""
        async with self.db.engine.connect() as conn:
            result = await conn.execute(select(ENTRIES).order_by(ENTRIES.c.id))
            return [dict(row) for row in result.mappings()]

    async def put(self, row: dict[str, Any]) -> None:
        """Insert ``row`` (all columns) as the attacker."""
        async with self.db.engine.begin() as conn:
            await conn.execute(insert(ENTRIES).values(**row))

    async def rewrite(self, row: dict[str, Any]) -> None:
        """Overwrite the stored row with ``row``'s id by ``row``'s values."""
        await self.sql("DELETE FROM audit_entries WHERE id = :i", i=row["id"])
        await self.put(row)

    async def rehash_from(self, start: int, rows: list[dict[str, Any]]) -> None:
        """Recompute, with the public algorithm, the hash of every row from ``start`` on."""
        prev = GENESIS
        for row in rows:
            if row["id"] >= start:
                row["prev_hash"] = prev
                row["hash"] = chain_hash(prev, content_json(row))
                await self.rewrite(row)
            prev = row["hash"]

    async def checkpoint(self) -> None:
        """One round of the checkpoint job: checkpoint the head and witness it."""
        self.clock[0] += timedelta(minutes=1)
        made = await self.log.checkpoint()
        head = made.witness_head() if made else None
        if head is not None:
            append_head(self.witness, head)

    async def verify(self) -> VerifyReport:
        """Verify against the newest witnessed head."""
        return await self.log.verify(newest_head(self.witness))


def event(i: int) -> AuditEvent:
    """The i-th event: a distribute by U1."""
    return AuditEvent(
        action="distribute",
        outcome="ok",
        actor_id="U1",
        actor_name="ada",
        source="button",
        provider="streampixel",
        target_type="project",
        target_id=f"proj-{i}",
        params={"uploadId": f"up-{i}"},
        requested_at=T0 + timedelta(minutes=i),
        correlation_id=f"c{i}",
    )


@pytest.fixture
async def attacked(database: Database, tmp_path: Path) -> Log:
    """17 keyed rows; checkpoints (witnessed) after rows 6, 12 and 15."""
    clock = [T0]
    log = AuditLog(database, keys=KeyRing.from_texts(KEY), clock=lambda: clock[0])
    subject = Log(database, log, tmp_path / "witness.jsonl", clock)
    for i in range(1, 18):
        await log.append(event(i))
        if i in (6, 12, 15):
            await subject.checkpoint()
    report = await subject.verify()
    assert report.ok, report.reason
    assert (report.keyed_rows, report.unkeyed_rows, report.signed_checkpoints) == (17, 0, 3)
    return subject


Tamper = Callable[[Log], Awaitable[None]]


# ------------------------------------------------------------ the six the unkeyed log missed


async def delete_last_rows_before_a_checkpoint(s: Log) -> None:
    """Rows 16-17 came after the last checkpoint; the job's next round (a minute) covers them."""
    await s.checkpoint()
    await s.sql("DELETE FROM audit_entries WHERE id >= 16")


async def delete_tail_with_its_checkpoints(s: Log) -> None:
    """Rows 13-17 and the checkpoint covering them go; the witness still has that head."""
    await s.sql("DELETE FROM audit_entries WHERE id >= 13")
    await s.sql("DELETE FROM audit_checkpoints WHERE id = 3")


async def append_row_with_public_algorithm(s: Log) -> None:
    """A new row 18, hashed and linked correctly, with the key id copied and a made-up MAC."""
    rows = await s.rows()
    last = rows[-1]
    forged = {**last, "id": 18, "actor_id": "U-evil", "prev_hash": last["hash"], "mac": "0" * 64}
    forged["hash"] = chain_hash(last["hash"], content_json(forged))
    await s.put(forged)


async def edit_row_and_rehash_all_later(s: Log) -> None:
    """Row 5 edited, then every row from 5 on re-hashed with the public algorithm."""
    rows = await s.rows()
    rows[4]["outcome"] = "denied"
    await s.rehash_from(5, rows)


async def delete_row_and_relink(s: Log) -> None:
    """Row 8 deleted and row 9 on re-hashed so the chain links across the hole."""
    rows = [row for row in await s.rows() if row["id"] != 8]
    await s.sql("DELETE FROM audit_entries WHERE id = 8")
    await s.rehash_from(9, rows)


async def empty_the_table(s: Log) -> None:
    """Every row deleted."""
    await s.sql("DELETE FROM audit_entries")


# ------------------------------------------------------------ the other twelve of the issue


async def edit_one_field(s: Log) -> None:
    """Row 5's actor changed in place."""
    await s.sql("UPDATE audit_entries SET actor_id = 'U9' WHERE id = 5")


async def edit_params(s: Log) -> None:
    """Row 9's parameters changed in place."""
    await s.sql("""UPDATE audit_entries SET params = '{"uploadId":"up-x"}' WHERE id = 9""")


async def edit_time(s: Log) -> None:
    """Row 3 moved an hour back."""
    rows = await s.rows()
    await s.rewrite({**rows[2], "requested_at": rows[2]["requested_at"] - timedelta(hours=1)})


async def edit_row_and_its_own_hash(s: Log) -> None:
    """Row 5 edited and its own hash recomputed (later rows untouched)."""
    rows = await s.rows()
    row = rows[4]
    row["actor_id"] = "U-evil"
    row["hash"] = chain_hash(row["prev_hash"], content_json(row))
    await s.rewrite(row)


async def delete_middle_row(s: Log) -> None:
    """Row 8 deleted."""
    await s.sql("DELETE FROM audit_entries WHERE id = 8")


async def delete_first_row(s: Log) -> None:
    """Row 1 deleted."""
    await s.sql("DELETE FROM audit_entries WHERE id = 1")


async def delete_range(s: Log) -> None:
    """Rows 4-6 deleted."""
    await s.sql("DELETE FROM audit_entries WHERE id BETWEEN 4 AND 6")


async def delete_checkpointed_tail(s: Log) -> None:
    """Rows 14-17 deleted (checkpoint 3 covers row 15)."""
    await s.sql("DELETE FROM audit_entries WHERE id >= 14")


async def append_unkeyed_row(s: Log) -> None:
    """A row 18 with no key at all, as the old code would have written it."""
    rows = await s.rows()
    last = rows[-1]
    forged = {**last, "id": 18, "prev_hash": last["hash"], "key_id": None, "mac": None}
    forged["checkpoint_id"] = None
    forged["hash"] = chain_hash(last["hash"], content_json(forged))
    await s.put(forged)


async def insert_row_in_the_middle(s: Log) -> None:
    """A forged row slipped in as row 8, linked to row 7; rows 8-17 shifted up by one."""
    rows = await s.rows()
    forged = {**rows[7], "actor_id": "U-evil", "mac": "f" * 64, "prev_hash": rows[6]["hash"]}
    forged["hash"] = chain_hash(forged["prev_hash"], content_json(forged))
    await s.sql("DELETE FROM audit_entries WHERE id >= 8")
    await s.put(forged)
    for row in rows[7:]:
        await s.put({**row, "id": row["id"] + 1})


async def edit_checkpoint(s: Log) -> None:
    """Checkpoint 2 made to name an earlier row."""
    await s.sql("UPDATE audit_checkpoints SET entry_id = 5 WHERE id = 2")


async def rehash_checkpoint(s: Log) -> None:
    """Checkpoint 2 made to name row 11, its hash recomputed and checkpoint 3 re-linked."""
    from storage.audit_chain import checkpoint_hash

    async with s.db.engine.connect() as conn:
        result = await conn.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.id))
        cps = [dict(row) for row in result.mappings()]
    rows = await s.rows()
    cp = cps[1]
    cp["entry_id"], cp["entry_hash"] = 11, rows[10]["hash"]
    cp["hash"] = checkpoint_hash(
        cp["prev_hash"],
        kind=cp["kind"],
        entry_id=11,
        entry_hash=cp["entry_hash"],
        created_at=cp["created_at"].replace(tzinfo=UTC),
    )
    await s.sql(
        "UPDATE audit_checkpoints SET entry_id = 11, entry_hash = :e, hash = :h WHERE id = 2",
        e=cp["entry_hash"],
        h=cp["hash"],
    )
    await s.sql("UPDATE audit_checkpoints SET prev_hash = :h WHERE id = 3", h=cp["hash"])


async def strip_the_key(s: Log) -> None:
    """Rows 10 on made to look like rows from before the key."""
    await s.sql("UPDATE audit_entries SET key_id = NULL, mac = NULL WHERE id >= 10")


# ------------------------------------------------------------ more


async def delete_all_checkpoints(s: Log) -> None:
    """Every checkpoint deleted (rows 7 on saw checkpoint 1)."""
    await s.sql("DELETE FROM audit_checkpoints")


async def delete_middle_checkpoint(s: Log) -> None:
    """Checkpoint 2 deleted."""
    await s.sql("DELETE FROM audit_checkpoints WHERE id = 2")


async def reorder_rows(s: Log) -> None:
    """Rows 4, 5, 6 stored as 5, 6, 4."""
    rows = {row["id"]: row for row in await s.rows()}
    for target, source in ((4, 5), (5, 6), (6, 4)):
        await s.rewrite({**rows[source], "id": target})


async def swap_two_rows(s: Log) -> None:
    """Rows 3 and 10 swapped."""
    rows = {row["id"]: row for row in await s.rows()}
    await s.rewrite({**rows[10], "id": 3})
    await s.rewrite({**rows[3], "id": 10})


async def replace_key_id(s: Log) -> None:
    """Row 7's key id replaced by a made-up one."""
    await s.sql("UPDATE audit_entries SET key_id = 'deadbeefdeadbeef' WHERE id = 7")


async def truncate_to_zero(s: Log) -> None:
    """Every row and every checkpoint deleted: the witness remembers."""
    await s.sql("DELETE FROM audit_entries")
    await s.sql("DELETE FROM audit_checkpoints")


SCENARIOS: list[tuple[Tamper, str, int | None]] = [
    # the six the unkeyed log missed
    (delete_last_rows_before_a_checkpoint, "truncated", 16),
    (delete_tail_with_its_checkpoints, "truncated", 13),
    (append_row_with_public_algorithm, "inserted", 18),
    (edit_row_and_rehash_all_later, "edited", 5),
    (delete_row_and_relink, "missing", 8),
    (empty_the_table, "truncated", 1),
    # the other twelve
    (edit_one_field, "edited", 5),
    (edit_params, "edited", 9),
    (edit_time, "edited", 3),
    (edit_row_and_its_own_hash, "edited", 5),
    (delete_middle_row, "missing", 8),
    (delete_first_row, "missing", 1),
    (delete_range, "missing", 4),
    (delete_checkpointed_tail, "truncated", 14),
    (append_unkeyed_row, "inserted", 18),
    (insert_row_in_the_middle, "inserted", 8),
    (edit_checkpoint, "edited", None),
    (strip_the_key, "bad key", 10),
    # and more
    (rehash_checkpoint, "edited", None),
    (delete_all_checkpoints, "missing", 7),
    (delete_middle_checkpoint, "missing", None),
    (reorder_rows, "reordered", 4),
    (swap_two_rows, "reordered", 3),
    (replace_key_id, "bad key", 7),
    (truncate_to_zero, "truncated", 1),
]


@pytest.mark.parametrize(
    ("tamper", "problem", "first_bad"), SCENARIOS, ids=[s[0].__name__ for s in SCENARIOS]
)
async def test_tampering_fails_verify_with_the_right_reason(
    attacked: Log, tamper: Tamper, problem: str, first_bad: int | None
) -> None:
    """Each tamper fails verification, naming what is wrong and the first bad sequence number."""
    await tamper(attacked)
    report = await attacked.verify()
    assert not report.ok
    assert (report.problem, report.first_bad_id) == (problem, first_bad), report.reason
    assert problem in report.describe()
