"""Every ``action_id`` and ``callback_id``, so listeners and renderers cannot drift apart."""

from __future__ import annotations

# Buttons on build notifications and command replies (value: a JSON or id string).
BUILD_DISTRIBUTE = "build_distribute"
BUILD_ROLLBACK = "build_rollback"
BUILD_QUEUE_DISTRIBUTE = "build_queue_distribute"
MEDIA_DELETE = "media_delete"
MEDIA_DETAILS = "media_details"
MEDIA_PAGE = "media_page"  # value: the page number to show
AUDIT_PAGE = "audit_page"

BUILD_PAGE = "build_page"
