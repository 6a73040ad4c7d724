"""Witnessed checkpoints, the scheduled verification and /audit verify's background runner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.audit import AuditEvent, AuditFilters
from bot.jobs.audit_integrity import CheckpointWitness, ScheduledVerification
from bot.sandbox.slack import FakeSlack
from bot.services.audit_verify import AuditVerifier, VerifyReport
from handlers.blocks.audit_notices import alarm_message, audit_notice, head_message, verify_result
from storage.audit import AuditLog
from storage.audit_keys import KeyRing, generate_key
from storage.audit_notices import AuditAlarm, AuditHeadNotice
from storage.audit_witness import newest_head
from storage.coordination import ClaimStore
from storage.db import Database
from tests.harness import AUDIT_KEY, running_bot

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
KEY = generate_key()


class Outbox:
    """Collects what the jobs queue, as ``OutboxStore.enqueue`` would store it."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, dict[str, object]]] = []

    async def __call__(
        self, channel: str, notification: AuditHeadNotice | AuditAlarm, now: datetime
    ) -> None:
        self.rows.append((channel, notification.to_payload()))


def event(i: int) -> AuditEvent:
    """A role grant by the admin."""
    return AuditEvent(
        action="role.grant",
        outcome="ok",
        actor_id="UADMIN",
        source="slash_command",
        target_type="user",
        target_id=f"U{i}",
        requested_at=T0 + timedelta(seconds=i),
    )


@pytest.fixture
def log(database: Database) -> AuditLog:
    """A keyed audit log."""
    return AuditLog(database, keys=KeyRing.from_texts(KEY), clock=lambda: T0)


async def test_each_new_head_is_witnessed_in_the_file_and_the_channel(
    log: AuditLog, tmp_path: Path
) -> None:
    """A round checkpoints new rows and publishes the head once; an idle round publishes nothing."""
    outbox = Outbox()
    witness = tmp_path / "witness.jsonl"
    job = CheckpointWitness(log, outbox, lambda: T0, witness_file=witness, channel="CAUDIT")
    assert await job.step() is None and outbox.rows == []  # nothing logged yet

    for i in range(3):
        await log.append(event(i))
    made = await job.step()
    assert made is not None and made.entry_id == 3
    head = newest_head(witness)
    assert head is not None and (head.entry_id, head.checkpoint_id) == (3, made.id)
    assert outbox.rows == [("CAUDIT", AuditHeadNotice(head).to_payload())]

    assert await job.step() is None
    assert len(outbox.rows) == 1 and len(witness.read_text().splitlines()) == 1

    await log.append(event(4))
    await job.step()
    head = newest_head(witness)
    assert head is not None and head.entry_id == 4
    assert (await log.verify(head)).ok


async def test_shutdown_takes_one_last_checkpoint(log: AuditLog, tmp_path: Path) -> None:
    """Cancelling the job (app shutdown) checkpoints and witnesses the rows written since."""
    witness = tmp_path / "witness.jsonl"
    job = CheckpointWitness(log, Outbox(), lambda: T0, witness_file=witness)
    task = asyncio.create_task(job.run(60.0))
    await asyncio.sleep(0)
    await log.append(event(1))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    head = newest_head(witness)
    assert head is not None and head.entry_id == 1


async def test_scheduled_verification_alarms_the_admins_only_on_failure(
    database: Database, log: AuditLog
) -> None:
    """An intact log queues nothing; a tampered one queues an alarm to the channel, else DMs."""
    for i in range(4):
        await log.append(event(i))
    verifier = AuditVerifier(log, None, log.record, lambda: T0)
    outbox = Outbox()
    in_channel = ScheduledVerification(
        verifier, outbox, lambda: T0, admins=["UADMIN"], channel="CAUDIT"
    )
    first = await in_channel.step()
    assert first is not None and first.ok and outbox.rows == []

    async with database.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entries SET target_id = 'U9' WHERE id = 2"))
    report = await in_channel.step()
    assert report is not None and (report.problem, report.first_bad_id) == ("edited", 2)
    assert [channel for channel, _ in outbox.rows] == ["CAUDIT"]
    alarm = AuditAlarm.from_payload(outbox.rows[0][1])
    assert (alarm.problem, alarm.first_bad, alarm.admins) == ("edited", 2, ("UADMIN",))

    by_dm = ScheduledVerification(verifier, outbox, lambda: T0, admins=["UB", "UA"])
    await by_dm.step()
    assert [channel for channel, _ in outbox.rows[1:]] == ["UA", "UB"]


async def test_one_replica_verifies_per_round(database: Database, log: AuditLog) -> None:
    """With claims, two replicas' jobs verify once per round between them."""
    await log.append(event(1))
    verifier = AuditVerifier(log, None, log.record, lambda: T0)
    jobs = [
        ScheduledVerification(
            verifier, Outbox(), lambda: T0, admins=["UA"], claims=ClaimStore(database)
        )
        for _ in range(2)
    ]
    ran = [await job.step() for job in jobs]
    assert [report is not None for report in ran] == [True, False]


async def test_background_verify_answers_and_is_audited(log: AuditLog) -> None:
    """The runner answers with the report and records the request with its outcome."""
    await log.append(event(1))
    answers: list[VerifyReport] = []

    async def answer(report: VerifyReport) -> None:
        answers.append(report)

    verifier = AuditVerifier(log, None, log.record, lambda: T0)
    request = AuditEvent(
        action="audit.verify",
        outcome="ok",
        actor_id="UADMIN",
        source="slash_command",
        requested_at=T0,
    )
    await verifier.start(request, answer)
    assert len(answers) == 1 and answers[0].ok
    page = await log.query(AuditFilters(action="audit.verify"))
    params = page.records[0].params_dict
    assert params["verified"] is True and params["rows"] == 1
    await verifier.aclose()


def test_renderers_escape_what_came_from_the_log() -> None:
    """Reasons and heads reach Slack escaped; the head carries every field needed to check it."""
    alarm = AuditAlarm("edited", 7, "row 7 <script> & co", ("UADMIN",), "2026-11-20T08:00:00Z")
    text, blocks = alarm_message(alarm)
    assert "&lt;script&gt; &amp; co" in text and "<script>" not in str(blocks)
    assert "<@UADMIN>" in str(blocks)

    failed = VerifyReport(False, 6, first_bad_id=7, reason="a <b>", problem="missing")
    text, blocks = verify_result(failed)
    assert "sequence number 7" in text and "a &lt;b&gt;" in str(blocks)
    ok = VerifyReport(True, 3, head_id=3, head_hash="ab" * 32, keyed_rows=3)
    assert verify_result(ok)[0] == "Audit log verified: 3 rows (3 keyed, 0 unkeyed)"


async def test_head_message_shows_the_signed_head(log: AuditLog) -> None:
    """The posted head is the witness line itself, signature included."""
    await log.append(event(1))
    made = await log.checkpoint()
    assert made is not None
    head = made.witness_head()
    assert head is not None
    text, blocks = head_message(AuditHeadNotice(head))
    assert "sequence 1" in text
    assert head.signature in str(blocks)
    # What the delivery worker reads back from the outbox renders the same.
    assert audit_notice(AuditHeadNotice(head).to_payload()) == (text, blocks)
    assert audit_notice({"event": "webhook.test"}) is None


async def test_the_running_app_witnesses_heads_in_the_channel_and_the_file(
    database: Database, tmp_path: Path
) -> None:
    """In the app, new rows are checkpointed within the interval, posted through the outbox to
    the audit channel and appended to the witness file; stopping the app witnesses the rest."""
    witness = tmp_path / "witness.jsonl"
    log = AuditLog(database, keys=KeyRing.from_texts(AUDIT_KEY))
    slack = FakeSlack()
    settings = {
        "STREAMOPS_AUDIT_CHANNEL": "CAUDIT",
        "STREAMOPS_AUDIT_WITNESS": str(witness),
        "STREAMOPS_AUDIT_CHECKPOINT_SECONDS": "0.2",
    }
    async with running_bot(database, slack, audit=log, **settings):
        await log.append(event(1))
        await slack.wait_for(
            lambda s: any(p.get("channel") == "CAUDIT" for p in s.calls_to("chat.postMessage")),
            10,
        )
        await log.append(event(2))
    post = next(p for p in slack.calls_to("chat.postMessage") if p.get("channel") == "CAUDIT")
    assert post["text"].startswith("Audit head: sequence 1")
    head = newest_head(witness)
    assert head is not None and head.entry_id == 2  # the shutdown checkpoint
    assert (await log.verify(head)).ok
