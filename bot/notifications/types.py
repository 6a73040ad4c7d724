"""Notification types for the layers above storage (storage owns and persists them)."""

from storage.notifications import QUEUED_RESULT, WEBHOOK_TEST, QueuedResult

__all__ = ["QUEUED_RESULT", "WEBHOOK_TEST", "QueuedResult"]
