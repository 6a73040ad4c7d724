"""Notification types for the layers above storage (storage owns and persists them)."""

from storage.notifications import (
    DELETE_RESULT,
    QUEUED_RESULT,
    WEBHOOK_TEST,
    DeleteResult,
    QueuedResult,
)

__all__ = ["DELETE_RESULT", "QUEUED_RESULT", "WEBHOOK_TEST", "DeleteResult", "QueuedResult"]
