"""Every ``action_id`` and ``callback_id``, so listeners and renderers cannot drift apart."""

from __future__ import annotations

# Buttons on build notifications and command replies (value: a JSON or id string).
BUILD_DISTRIBUTE = "build_distribute"
BUILD_ROLLBACK = "build_rollback"
BUILD_QUEUE_DISTRIBUTE = "build_queue_distribute"
BUILD_SCHEDULE = "build_schedule"  # value: JSON {a: action, p: project, u: upload, t: epoch}
BUILD_SCHEDULE_CANCEL = "build_schedule_cancel"  # value: the schedule id
MEDIA_DELETE = "media_delete"
MEDIA_DETAILS = "media_details"
MEDIA_PAGE = "media_page"  # value: the page number to show
AUDIT_PAGE = "audit_page"
BUILD_PAGE = "build_page"
#: Previous and Next need their own ids: Slack refuses two equal action_ids in one block.
BUILD_PAGE_PREV = f"{BUILD_PAGE}_prev"
BUILD_PAGE_NEXT = f"{BUILD_PAGE}_next"
APPROVAL_APPROVE = "approval_approve"  # value: the request id
APPROVAL_REJECT = "approval_reject"  # value: the request id; opens the reason modal
FREEZE_OVERRIDE = "freeze_override"  # value: JSON action/project_id/subject; opens a modal

# Modal callback ids.
VIEW_APPROVAL_REJECT = "approval_reject_reason"
VIEW_FREEZE_OVERRIDE = "freeze_override_reason"
