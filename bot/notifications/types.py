"""Notification types and event names for the layers above storage (storage owns them)."""

from storage.notifications import (
    BUILD_EVENTS,
    DELETE_RESULT,
    LIVE_ENDED,
    LIVE_EVENTS,
    LIVE_STARTED,
    MEDIA_EVENTS,
    PROVIDER_EVENTS,
    QUEUED_RESULT,
    WEBHOOK_TEST,
    DeleteResult,
    Notice,
    QueuedResult,
)

__all__ = [
    "BUILD_EVENTS",
    "DELETE_RESULT",
    "LIVE_ENDED",
    "LIVE_EVENTS",
    "LIVE_STARTED",
    "MEDIA_EVENTS",
    "PROVIDER_EVENTS",
    "QUEUED_RESULT",
    "WEBHOOK_TEST",
    "DeleteResult",
    "Notice",
    "QueuedResult",
]
