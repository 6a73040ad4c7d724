"""`/audit`: admins query and export the real audit log; others are refused and audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.audit import AuditEvent, AuditFilters
from bot.sandbox.slack import FakeSlack
from storage.audit import AuditLog
from storage.audit_keys import KeyRing
from storage.db import Database
from tests.harness import ADMIN, AUDIT_KEY, running_bot


async def _seed(log: AuditLog, n: int = 30) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(n):
        await log.record(
            AuditEvent(
                action="distribute" if i % 3 else "delete",
                outcome="ok" if i % 5 else "failed",
                actor_id="UALICE" if i % 2 else "UBOB",
                actor_name="alice" if i % 2 else "bob",
                source="button",
                provider="streampixel" if i % 3 else "streamstack",
                target_type="upload" if i % 3 else "video",
                target_id=f"t{i}",
                requested_at=start + timedelta(seconds=i),
            )
        )


async def test_admin_gets_summary_entries_and_paging(database: Database) -> None:
    """An admin's `/audit` shows counts, newest entries first, and a Next button."""
    log = AuditLog(database)
    await _seed(log)
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        response = await bot.command("/audit", "since=7d", user_id=ADMIN)
        assert response.status_code == 200
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
        reply = slack.calls_to("response_url")[0]
        blocks = reply["blocks"]
        assert blocks[0]["text"]["text"].startswith("*30* entries")
        assert "By actor: alice 15, bob 15" in blocks[0]["text"]["text"]
        assert "`upload:t29`" in blocks[2]["text"]["text"].splitlines()[0]
        buttons = blocks[-1]["elements"]
        assert [b["text"]["text"] for b in buttons] == ["Next"]

        await bot.click(buttons[0]["action_id"], buttons[0]["value"], user_id=ADMIN)
        await slack.wait_for(lambda s: len(s.calls_to("response_url")) == 2)
        second = slack.calls_to("response_url")[1]
        assert second["replace_original"] is True
        labels = [b["text"]["text"] for b in second["blocks"][-1]["elements"]]
        assert labels == ["Previous"]


async def test_filters_narrow_the_result(database: Database) -> None:
    """`/audit user=… action=…` counts only the matching rows."""
    log = AuditLog(database)
    await _seed(log)
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "user=UBOB action=delete", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    summary = slack.calls_to("response_url")[0]["blocks"][0]["text"]["text"]
    assert summary.startswith("*5* entries")


async def test_bad_filter_is_explained(database: Database) -> None:
    """A malformed filter gets an ephemeral explanation, not a stack trace."""
    slack = FakeSlack()
    async with running_bot(database, slack, audit=AuditLog(database)) as bot:
        await bot.command("/audit", "since=yesterdayish", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    text = slack.calls_to("response_url")[0]["text"]
    assert text.startswith(":warning:") and "since" in text


async def test_non_admin_is_refused_and_the_refusal_is_audited(database: Database) -> None:
    """A viewer's `/audit` is refused politely and recorded as denied."""
    log = AuditLog(database)
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "", user_id="UVIEWER")
        await bot.click("audit_page_next", "page=2", user_id="UVIEWER")
        await slack.wait_for(lambda s: len(s.calls_to("response_url")) == 2)
    texts = [c["text"] for c in slack.calls_to("response_url")]
    assert all("only open to StreamOps admins" in t for t in texts)
    denied = (await log.query(AuditFilters(outcome="denied"))).records
    assert {(r.actor_id, r.source) for r in denied} == {
        ("UVIEWER", "slash_command"),
        ("UVIEWER", "button"),
    }


async def test_export_sends_csv_and_json_that_parse_back(database: Database) -> None:
    """`/audit export` uploads CSV and JSON files to the admin's DM with every matching row."""
    log = AuditLog(database)
    await _seed(log, 7)
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "export action=delete", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    contents = [bytes(c["content"]).decode() for c in slack.calls_to("file_upload")]
    json_text = next(c for c in contents if c.lstrip().startswith(("[", "{")))
    csv_text = next(c for c in contents if c is not json_text)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    data = json.loads(json_text)
    assert len(rows) == 3
    assert {r["target_id"] for r in rows} == {"t0", "t3", "t6"}
    assert len(data if isinstance(data, list) else data["entries"]) == 3
    complete = slack.calls_to("files.completeUploadExternal")[0]
    assert complete["channel_id"] == f"D{ADMIN}"
    assert "Sent you 3 audit entries" in slack.calls_to("response_url")[0]["text"]


async def test_admin_verify_answers_when_done_and_names_the_problem(database: Database) -> None:
    """`/audit verify` says it started, then answers with the result; tampering is named."""
    log = AuditLog(database, keys=KeyRing.from_texts(AUDIT_KEY))
    await _seed(log, 5)
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "verify", user_id=ADMIN)
        await slack.wait_for(lambda s: len(s.calls_to("response_url")) >= 2)
        started, result = slack.calls_to("response_url")[:2]
        assert "in the background" in started["text"]
        assert result["text"] == "Audit log verified: 5 rows (5 keyed, 0 unkeyed)"

        async with database.engine.begin() as conn:
            await conn.execute(text("UPDATE audit_entries SET outcome = 'ok' WHERE id = 1"))
        await bot.command("/audit", "verify", user_id=ADMIN)
        await slack.wait_for(lambda s: len(s.calls_to("response_url")) >= 4)
        failed = slack.calls_to("response_url")[3]
        assert failed["text"] == "Audit log verification FAILED (edited at sequence number 1)"
    requests = [r for r in (await log.query(AuditFilters(action="audit.verify"))).records]
    assert [r.params_dict["verified"] for r in requests] == [False, True]


async def test_verify_is_for_admins_only(database: Database) -> None:
    """A non-admin's `/audit verify` is refused, and the refusal is audited."""
    log = AuditLog(database, keys=KeyRing.from_texts(AUDIT_KEY))
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "verify", user_id="UVIEWER1")
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    assert "only open to StreamOps admins" in slack.calls_to("response_url")[0]["text"]
    refused = (await log.query(AuditFilters(action="audit.verify"))).records
    assert [(r.actor_id, r.outcome) for r in refused] == [("UVIEWER1", "denied")]
