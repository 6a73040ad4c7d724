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
MEDIA_STATS_PERIOD = "media_stats_period"  # static_select; option value: "<uuid>|<period>"
MEDIA_STATS_CHART = "media_stats_chart"  # value: "<uuid>|<period>"
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

# Upload modals and the message shortcut (callback ids).
BUILD_UPLOAD_VIEW = "build_upload_view"
MEDIA_UPLOAD_VIEW = "media_upload_view"
MEDIA_SLACK_UPLOAD_VIEW = "media_slack_upload_view"
MEDIA_SLACK_UPLOAD_SHORTCUT = "upload_to_streamstack"
MEDIA_SLACK_UPLOAD_OFFER = "media_slack_upload_offer"  # value: JSON file details and message ts
MEDIA_UNDO_DELETE = "media_undo_delete"  # value: the pending delete's id
LIVE_RECORDINGS_PAGE = "live_recordings_page"  # value: JSON filter and page

# App Home (handlers/home.py)
HOME_REFRESH = "home_refresh"  # value: unused
HOME_RETRY_DELIVERY = "home_retry_delivery"  # value: the failed outbox row id
