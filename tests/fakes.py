"""In-memory fakes that record what they were given (no mocks)."""

from __future__ import annotations

from bot.audit import AuditEvent


class RecordingAuditor:
    """An Auditor that keeps events in a list."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)
