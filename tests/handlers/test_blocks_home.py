"""The Home view renderer (pure): sections appear only when their feature exists; ≤ 100 blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.home import (
    ActionRow,
    ApprovalRow,
    FreezeRow,
    Home,
    LiveRow,
    Operations,
    PlannedRun,
)
from handlers.blocks.home import MAX_BLOCKS, home_view
from storage.operations import Backlog, FailedDelivery, ProviderHealth

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _full(n: int) -> Home:
    return Home(
        user_id="U1",
        is_admin=True,
        now=NOW,
        live=[LiveRow(f"P{i}", f"u{i}", NOW, "provider") for i in range(n)],
        freezes=[FreezeRow(f"P{i}", "r", NOW, NOW + timedelta(hours=1), True) for i in range(n)],
        approvals=[
            ApprovalRow(i, "distribute", "P", f"u{i}", "U2", 0, 1, NOW, True) for i in range(n)
        ],
        planned=[PlannedRun("queued", "distribute", "P", f"u{i}", NOW, "U2") for i in range(n)],
        my_actions=[ActionRow(NOW, "distribute", f"u{i}", "ok") for i in range(10)],
        operations=Operations(
            health=[ProviderHealth("streampixel", NOW, 1, 0, 0)],
            backlog=Backlog(pending=3, oldest_at=NOW - timedelta(minutes=2), failed=n),
            failed=[FailedDelivery(i, "C1", "build.approved", f"u{i}", "x", NOW) for i in range(n)],
            audit=None,
        ),
    )


def test_sections_of_absent_features_are_left_out() -> None:
    """With only the user's actions known, no live/freeze/approval/schedule/admin section shows."""
    view = home_view(Home(user_id="U1", is_admin=False, now=NOW))
    text = str(view["blocks"])
    assert "Your last actions" in text
    for absent in ("Live builds", "Freezes", "Pending approvals", "Scheduled", "Operations"):
        assert absent not in text


def test_the_view_never_exceeds_slacks_block_limit() -> None:
    """Even with far more rows than the service sends, the view is cut to 100 blocks."""
    assert len(home_view(_full(8))["blocks"]) <= MAX_BLOCKS  # what the service sends at most
    crowded = home_view(_full(60))["blocks"]
    assert len(crowded) == MAX_BLOCKS
    assert "More than fits here" in str(crowded[-1])


def test_the_outbox_line_gives_the_backlog_and_oldest_age() -> None:
    """Admins read how many notifications wait and for how long."""
    text = str(home_view(_full(1))["blocks"])
    assert "3 notifications waiting, oldest waiting 2:00; 1 failed" in text
