"""`/audit user=@name` works as Slack sends it with `should_escape: true`: `<@U…|name>`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.audit import AuditEvent
from bot.sandbox.slack import FakeSlack
from storage.audit import AuditLog
from storage.db import Database
from tests.harness import ADMIN, running_bot


async def test_an_escaped_mention_filters_by_that_user(database: Database) -> None:
    log = AuditLog(database)
    start = datetime.now(UTC) - timedelta(minutes=5)
    for i, actor in enumerate(["UALICE01", "UBOB0001", "UALICE01"]):
        await log.record(
            AuditEvent(
                action="distribute",
                outcome="ok",
                actor_id=actor,
                actor_name=actor.lower(),
                source="slash_command",
                provider="streampixel",
                target_type="upload",
                target_id=f"u{i}",
                requested_at=start + timedelta(seconds=i),
            )
        )
    slack = FakeSlack()
    async with running_bot(database, slack, audit=log) as bot:
        await bot.command("/audit", "user=<@UALICE01|alice> since=1d", user_id=ADMIN)
        await slack.wait_for(lambda s: bool(s.calls_to("response_url")))
    reply = slack.calls_to("response_url")[0]
    assert reply["blocks"][0]["text"]["text"].startswith("*2* entries")
