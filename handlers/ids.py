"""Every ``action_id`` and ``callback_id``, so listeners and renderers cannot drift apart."""

from __future__ import annotations

# Buttons on build notifications and command replies (value: a JSON or id string).
BUILD_DISTRIBUTE = "build_distribute"
BUILD_ROLLBACK = "build_rollback"
BUILD_QUEUE_DISTRIBUTE = "build_queue_distribute"
MEDIA_DELETE = "media_delete"
MEDIA_DETAILS = "media_details"
MEDIA_PAGE = "media_page"  # value: the page number to show
PAGE_NEXT = "page_next"
PAGE_PREVIOUS = "page_previous"
AUDIT_PAGE = "audit_page"

# Modal callback ids.
VIEW_CONFIRM = "confirm_action"
BUILD_PAGE = "build_page"
#: Previous and Next need their own ids: Slack refuses two equal action_ids in one block.
BUILD_PAGE_PREV = f"{BUILD_PAGE}_prev"
BUILD_PAGE_NEXT = f"{BUILD_PAGE}_next"
