"""Keyed audit rows: keys, rotation, rows from before the key, the migration, the witness file."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, text

from bot.audit import AuditEvent
from storage import migrate
from storage.audit import AuditKeyRequired, AuditLog
from storage.audit_chain import GENESIS, chain_hash, content_json
from storage.audit_keys import AuditKey, AuditKeyError, KeyRing, decode_key, generate_key
from storage.audit_verify import canonical_time, fast_content
from storage.audit_witness import WitnessError, WitnessHead, append_head, newest_head
from storage.db import Database

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
#: audit_entries as revision 0002 created it (no key columns).
LEGACY_ENTRIES = Table(
    "audit_entries",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("requested_at", DateTime()),
    Column("completed_at", DateTime()),
    *(
        Column(name, String())
        for name in (
            "actor_id",
            "actor_name",
            "team_id",
            "channel_id",
            "source",
            "provider",
            "action",
            "target_type",
            "target_id",
            "outcome",
            "correlation_id",
            "prev_hash",
            "hash",
        )
    ),
    Column("params", Text()),
    Column("message", Text()),
)
KEY = generate_key()
OLD_KEY = generate_key()


def event(i: int, **changes: object) -> AuditEvent:
    """The i-th event: a distribute by U1."""
    values: dict[str, object] = {
        "action": "distribute",
        "outcome": "ok",
        "actor_id": "U1",
        "source": "button",
        "target_id": f"proj-{i}",
        "requested_at": T0 + timedelta(minutes=i),
    }
    values.update(changes)
    return AuditEvent(**values)  # type: ignore[arg-type]  # test values


async def fill(log: AuditLog, first: int, last: int) -> None:
    """Append events ``first`` to ``last``."""
    for i in range(first, last + 1):
        await log.append(event(i))


def test_generated_keys_decode_and_have_stable_ids() -> None:
    """A generated key decodes to 32 bytes; its id depends on the key only."""
    assert len(decode_key(KEY)) == 32
    assert AuditKey.from_text(KEY).key_id == AuditKey.from_text(KEY + "\n").key_id
    assert AuditKey.from_text(KEY).key_id != AuditKey.from_text(OLD_KEY).key_id
    standard = base64.b64encode(decode_key(KEY)).decode()
    assert AuditKey.from_text(standard).key_id == AuditKey.from_text(KEY).key_id


@pytest.mark.parametrize("bad", ["not base64 !", base64.b64encode(b"short").decode(), ""])
def test_bad_keys_are_refused_with_advice(bad: str) -> None:
    """Short or malformed keys are refused, pointing at `streamops audit keygen`."""
    with pytest.raises(AuditKeyError, match="keygen"):
        decode_key(bad)


def test_key_ring_reads_current_and_retired_keys() -> None:
    """The ring finds current and retired keys by id, and nothing else."""
    ring = KeyRing.from_texts(KEY, [OLD_KEY])
    assert ring.keyed
    assert ring.get(AuditKey.from_text(OLD_KEY).key_id) is not None
    assert ring.get("0" * 16) is None
    assert not KeyRing.from_texts(None).keyed


@pytest.mark.parametrize(
    "message",
    ["done", "", 'quote " and \\ backslash', "tab\tnew\nline\x01", "ünïcødé ✓ 🚀", "\u2028"],
)
def test_fast_content_is_the_canonical_content(message: str) -> None:
    """The verifier's fast canonical text equals content_json for awkward strings and nulls."""
    row = {
        "requested_at": datetime(2026, 1, 2, 3, 4, 5, 6),
        "completed_at": None,
        "actor_id": "U1",
        "actor_name": message,
        "team_id": "",
        "channel_id": "C1",
        "source": "button",
        "provider": None,
        "action": "distribute",
        "target_type": None,
        "target_id": message,
        "params": '{"k":"' + message.encode("unicode_escape").decode() + '"}',
        "outcome": "ok",
        "message": message,
        "correlation_id": "c",
    }
    from storage.audit_chain import CONTENT_FIELDS

    tuple_row = [0, *(row[name] for name in CONTENT_FIELDS)]
    tuple_row[1] = canonical_time("2026-01-02 03:04:05.000006")
    assert fast_content(tuple_row) == content_json(row)


def test_canonical_time_reads_sqlite_text_and_datetimes() -> None:
    """SQLite's stored text and a datetime give the same canonical text."""
    moment = datetime(2026, 1, 2, 3, 4, 5, 6)
    assert canonical_time("2026-01-02 03:04:05.000006") == canonical_time(moment)
    assert canonical_time("2026-01-02 03:04:05") == "2026-01-02T03:04:05.000000Z"
    assert canonical_time(None) is None


async def test_rotation_old_rows_verify_with_the_retired_key(database: Database) -> None:
    """Rows signed by the old key verify once it is retired; without it they are a bad key."""
    old = AuditLog(database, keys=KeyRing.from_texts(OLD_KEY))
    await fill(old, 1, 4)
    await old.checkpoint()
    rotated = AuditLog(database, keys=KeyRing.from_texts(KEY, [OLD_KEY]))
    await fill(rotated, 5, 8)
    await rotated.checkpoint()
    report = await rotated.verify()
    assert report.ok, report.reason
    assert report.key_ids == (
        AuditKey.from_text(OLD_KEY).key_id,
        AuditKey.from_text(KEY).key_id,
    )
    assert report.keyed_rows == 8

    forgotten = await AuditLog(database, keys=KeyRing.from_texts(KEY)).verify()
    assert (forgotten.problem, forgotten.bad_checkpoint_id) == ("bad key", 1)
    assert "neither the current key nor a retired one" in forgotten.reason


async def test_key_id_swapped_for_another_known_key_is_a_bad_key(database: Database) -> None:
    """A row claiming the new key while the old key signed it is named as a replaced key id."""
    old = AuditLog(database, keys=KeyRing.from_texts(OLD_KEY))
    await fill(old, 1, 3)
    rotated = AuditLog(database, keys=KeyRing.from_texts(KEY, [OLD_KEY]))
    await fill(rotated, 4, 5)
    async with database.engine.begin() as conn:
        await conn.execute(
            text("UPDATE audit_entries SET key_id = :k WHERE id = 2"),
            {"k": AuditKey.from_text(KEY).key_id},
        )
    report = await rotated.verify()
    assert (report.problem, report.first_bad_id) == ("bad key", 2)
    assert "replaced" in report.reason


async def test_rows_before_the_key_verify_as_before_and_are_unkeyed(database: Database) -> None:
    """Unkeyed rows, then keyed ones: verifies, and the report counts the unkeyed rows."""
    await fill(AuditLog(database), 1, 5)
    keyed = AuditLog(database, keys=KeyRing.from_texts(KEY))
    await fill(keyed, 6, 9)
    made = await keyed.checkpoint()
    assert made is not None and made.unkeyed_until == 5
    report = await keyed.verify()
    assert report.ok, report.reason
    assert (report.unkeyed_rows, report.keyed_rows) == (5, 4)
    assert any("unkeyed: 5 rows" in line for line in report.details())


async def test_unkeyed_writes_are_refused_once_the_log_is_keyed(database: Database) -> None:
    """After a keyed row (or a signed checkpoint), a process without the key cannot append."""
    await fill(AuditLog(database, keys=KeyRing.from_texts(KEY)), 1, 2)
    with pytest.raises(AuditKeyRequired, match="STREAMOPS_AUDIT_KEY"):
        await AuditLog(database).append(event(3))


async def test_keyed_rows_without_any_key_configured_fail_as_bad_key(database: Database) -> None:
    """Verifying keyed rows without a key cannot vouch for them."""
    await fill(AuditLog(database, keys=KeyRing.from_texts(KEY)), 1, 2)
    report = await AuditLog(database).verify()
    assert (report.problem, report.first_bad_id) == ("bad key", 1)
    assert "no audit key is configured" in report.reason


async def test_migration_keeps_rows_from_revision_0002_readable(empty_database: Database) -> None:
    """Rows written by the old schema verify after revision 0009, and keyed rows follow them."""
    await migrate.upgrade(empty_database, "0002")
    prev = GENESIS
    async with empty_database.engine.begin() as conn:
        for i in range(1, 4):
            row = {
                "id": i,
                "requested_at": (T0 + timedelta(minutes=i)).replace(tzinfo=None),
                "completed_at": None,
                "actor_id": "U1",
                "actor_name": "",
                "team_id": "",
                "channel_id": "",
                "source": "cli",
                "provider": None,
                "action": "audit.export",
                "target_type": None,
                "target_id": None,
                "params": "{}",
                "outcome": "ok",
                "message": "",
                "correlation_id": "",
                "prev_hash": prev,
            }
            row["hash"] = prev = chain_hash(prev, content_json(row))
            await conn.execute(insert(LEGACY_ENTRIES).values(**row))
    await migrate.upgrade(empty_database)
    log = AuditLog(empty_database, keys=KeyRing.from_texts(KEY))
    await log.append(event(4))
    report = await log.verify()
    assert report.ok, report.reason
    assert (report.unkeyed_rows, report.keyed_rows) == (3, 1)


async def test_witness_file_round_trip_and_forged_line(database: Database, tmp_path: Path) -> None:
    """Heads written to the witness file read back; a line not signed by the key is refused."""
    log = AuditLog(database, keys=KeyRing.from_texts(KEY))
    await fill(log, 1, 3)
    made = await log.checkpoint()
    assert made is not None
    head = made.witness_head()
    assert head is not None
    path = tmp_path / "w" / "witness.jsonl"
    append_head(path, head)
    assert newest_head(path) == head
    assert (await log.verify(head)).witness.startswith("newest witnessed head row 3")

    forged = WitnessHead(**{**head.__dict__, "checkpoint_id": 9, "signature": "0" * 64})
    append_head(path, forged)
    newest = newest_head(path)
    assert newest is not None
    report = await log.verify(newest)
    assert report.problem == "bad key" and "witnessed head" in report.reason

    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(WitnessError, match="line 1"):
        newest_head(path)


async def test_a_process_without_the_key_cannot_add_a_checkpoint(database: Database) -> None:
    """After a signed checkpoint, an unsigned one would break the chain: it is refused."""
    keyed = AuditLog(database, keys=KeyRing.from_texts(KEY))
    await fill(keyed, 1, 2)
    await keyed.checkpoint()
    await fill(keyed, 3, 3)
    with pytest.raises(AuditKeyRequired, match="signed checkpoints"):
        await AuditLog(database).checkpoint()
    assert (await keyed.verify()).ok
