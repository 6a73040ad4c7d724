"""The App Home dashboard through signed requests and the fake Slack: viewer, admin, Retry."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.notifications.types import Notice
from bot.sandbox.slack import FakeSlack
from handlers import ids
from storage.approvals import ApprovalStore
from storage.audit import AuditLog
from storage.audit_events import AuditEvent
from storage.builds import BuildStore
from storage.db import Database
from storage.freezes import FreezeStore
from storage.outbox import FAILED, OutboxStore
from storage.schedules import ScheduleStore
from storage.timeline import TimelineStore
from storage.webhooks import Intake, WebhookStore
from tests import slack_requests
from tests.fakes import RecordingAuditor
from tests.harness import ADMIN, Bot
from tests.webhook_helpers import (
    drained,
    post_webhook,
    quiet_bot,
    running_worker,
    streampixel,
)

VIEWER = "UVIEWER1"
RELEASER = "URELEASE1"
NOW = datetime.now(UTC)


async def _open_home(bot: Bot, user: str) -> dict[str, Any]:
    """Open the Home tab as ``user``; the view Slack was asked to publish."""
    before = len(bot.slack.calls_to("views.publish"))
    body = slack_requests.event_callback(
        {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
        event_id=f"Ev{user}{before}",
    )
    response = await bot.post_signed(body, content_type="application/json")
    assert response.status_code == 200
    return await _published(bot, user, before)


async def _published(bot: Bot, user: str, before: int) -> dict[str, Any]:
    await bot.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > before)
    call = bot.slack.calls_to("views.publish")[before]
    assert call["user_id"] == user
    view = call["view"]
    return view if isinstance(view, dict) else json.loads(view)


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


def _buttons(view: dict[str, Any]) -> dict[str, list[str]]:
    """action_id → the values of every button with it."""
    found: dict[str, list[str]] = {}
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else []
        if "accessory" in block:
            elements = [block["accessory"]]
        for element in elements:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element["value"])
    return found


async def _seed(db: Database) -> int:
    """Live build, freezes, an approval, a schedule, a queued run, audit rows, a failed notice."""
    timeline = TimelineStore(db)
    await timeline.remember_names({"p1": "Showroom"}, NOW)
    await timeline.record_live(
        "p1",
        "up-live-1",
        via="distribute",
        actor_id=ADMIN,
        source="button",
        at=NOW - timedelta(hours=2),
    )
    freezes = FreezeStore(db)
    await freezes.add(
        project_id="p1", project_name="Showroom", reason="launch <week>", frozen_by=ADMIN,
        channel_id="C1", starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=1),
        now=NOW,
    )  # fmt: skip
    await freezes.add(
        project_id="*", project_name="*", reason="holidays", frozen_by=ADMIN, channel_id="C1",
        starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=5), now=NOW,
    )  # fmt: skip
    await ApprovalStore(db).create(
        project_id="p1", project_name="Showroom", upload_id="up-new-2", action="distribute",
        requested_by=RELEASER, channel_id="C1", reason="", needed=1, approvers="releaser",
        now=NOW, expires_at=NOW + timedelta(hours=4),
    )  # fmt: skip
    await ScheduleStore(db).create(
        project_id="p1", project_name="Showroom", upload_id="up-sched-3", action="distribute",
        requested_by=RELEASER, channel_id="C1", due_at=NOW + timedelta(hours=6), now=NOW,
    )  # fmt: skip
    await BuildStore(db).enqueue(
        project_id="p1", upload_id="up-queue-4", action="distribute", requested_by=RELEASER,
        channel_id="C1", run_at=NOW + timedelta(minutes=3), now=NOW,
    )  # fmt: skip
    audit = AuditLog(db)
    for index in range(12):
        await audit.record(
            AuditEvent(
                action="distribute", outcome="ok", actor_id=VIEWER, source="button",
                requested_at=NOW - timedelta(minutes=60 - index), target_id=f"up-{index}",
            )
        )  # fmt: skip
    # A notification that failed for good.
    await WebhookStore(db).record(
        Intake(
            provider="streampixel", event="build.rejected", subject="up-bad-9", project="p1",
            dedupe_key="failed-one", raw_payload="{}", subject_key="",
            notification=Notice(provider="streampixel", event="webhook.test", project="p1"),
        ),
        NOW - timedelta(minutes=5),
        default_channel="CGONE",
    )  # fmt: skip
    outbox = OutboxStore(db)
    lease = await outbox.lease("w", NOW, timedelta(seconds=30))
    assert lease is not None and lease.row.id is not None
    assert await outbox.fail(lease, NOW, "channel_not_found")
    return lease.row.id


async def test_a_viewer_sees_the_shared_sections_and_no_operations(database: Database) -> None:
    """Live build, freezes, approvals (no buttons), runs, own last 10 actions; no admin view."""
    await _seed(database)
    async with quiet_bot(database, FakeSlack()) as bot:
        view = await _open_home(bot, VIEWER)
    text = _text(view)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "Showroom" in text and "up-live-1" in text and "live since" in text
    assert "launch &lt;week&gt;" in text and "holidays" in text and "every project" in text
    assert "up-new-2" in text and "0 of 1" in text
    assert "up-sched-3" in text and "up-queue-4" in text
    mine = re.findall(r"distribute `(up-\d+)`", text)
    assert mine == [f"up-{i}" for i in range(11, 1, -1)]  # the last 10 actions, newest first
    buttons = _buttons(view)
    assert ids.HOME_REFRESH in buttons
    assert ids.APPROVAL_APPROVE not in buttons  # a viewer may not approve
    assert ids.HOME_RETRY_DELIVERY not in buttons
    assert "Operations (admins)" not in text and "Outbox" not in text


async def test_an_admin_sees_operations_and_may_approve(database: Database) -> None:
    """Webhook health per provider, backlog, the failed notification with Retry, audit state."""
    row_id = await _seed(database)
    await AuditLog(database).record(
        AuditEvent(
            action="audit.verify", outcome="ok", actor_id="scheduler", source="scheduler",
            requested_at=NOW, completed_at=NOW, params={"verified": True, "rows": 12},
            message="the chain is intact: 12 rows",
        )
    )  # fmt: skip
    async with quiet_bot(database, FakeSlack()) as bot:
        assert (await post_webhook(bot, "streampixel", streampixel("build.uploaded"))).is_success
        await post_webhook(bot, "streampixel", streampixel("build.uploaded"))  # duplicate
        await post_webhook(bot, "streampixel", b"{}")  # refused: no event
        view = await _open_home(bot, ADMIN)
    text = _text(view)
    assert len(view["blocks"]) <= 100
    assert "Operations (admins)" in text
    assert re.search(r"\*streampixel webhooks\*\\nlast \d+:\d\d ago", text)
    assert "24 h: 2 accepted, 1 duplicate, 1 refused" in text  # the seeded one + the new one
    assert "*streamstack webhooks*\\nlast never" in text
    assert "1 notifications waiting" in text and "1 failed" in text
    assert "channel_not_found" in text and "<#CGONE>" in text
    assert "*Audit log*: 13 rows" in text
    assert ":white_check_mark: intact: the chain is intact: 12 rows" in text
    buttons = _buttons(view)
    assert buttons[ids.HOME_RETRY_DELIVERY] == [str(row_id)]
    approval_id = buttons[ids.APPROVAL_APPROVE][0]
    assert buttons[ids.APPROVAL_REJECT] == [approval_id]


async def test_retry_redelivers_the_failed_notification_once_and_is_audited(
    database: Database,
) -> None:
    """Two Retry clicks: one re-queue, one Slack post; a viewer's click is refused; all audited."""
    row_id = await _seed(database)
    auditor = RecordingAuditor()
    slack = FakeSlack()
    async with quiet_bot(database, slack, audit=auditor) as bot:
        before = len(slack.calls_to("views.publish"))
        denied = slack_requests.block_actions(ids.HOME_RETRY_DELIVERY, str(row_id), user_id=VIEWER)
        assert (await bot.post_signed(denied)).status_code == 200
        view = await _published(bot, VIEWER, before)
        assert "role" in _text(view)
        assert [r.status for r in await OutboxStore(database).rows(channel="CGONE")] == [FAILED]

        for click in range(2):
            before = len(slack.calls_to("views.publish"))
            body = slack_requests.block_actions(ids.HOME_RETRY_DELIVERY, str(row_id), user_id=ADMIN)
            assert (await bot.post_signed(body)).status_code == 200
            view = await _published(bot, ADMIN, before)
            expected = "Retried" if click == 0 else "not failed (already retried?)"
            assert expected in _text(view)
        async with running_worker(bot):
            await drained(bot.container.db)
    posts = [p for p in slack.calls_to("chat.postMessage") if p.get("channel") == "CGONE"]
    assert len(posts) == 1
    [row] = await OutboxStore(database).rows(channel="CGONE")
    assert row.status == "sent"
    retries = [e for e in auditor.events if e.action == "notification.retry"]
    assert [(e.actor_id, e.outcome) for e in retries] == [
        (VIEWER, "denied"),
        (ADMIN, "ok"),
        (ADMIN, "failed"),
    ]
    assert all(e.target_id == str(row_id) for e in retries)


async def test_refresh_publishes_the_current_view(database: Database) -> None:
    """The Refresh button republishes the Home tab for the clicking user."""
    async with quiet_bot(database, FakeSlack()) as bot:
        before = len(bot.slack.calls_to("views.publish"))
        body = slack_requests.block_actions(ids.HOME_REFRESH, "refresh", user_id=VIEWER)
        assert (await bot.post_signed(body)).status_code == 200
        view = await _published(bot, VIEWER, before)
    assert "Your last actions" in _text(view) and "Nothing yet." in _text(view)
