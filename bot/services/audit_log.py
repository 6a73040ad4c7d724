"""``/audit``: admins query and export the audit log; everyone else is refused politely."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.audit import AuditFilters, parse_filters
from bot.services.actor import Actor, AuditTrail, Gate, Target
from storage.audit import AuditLog, AuditPage, AuditSummary

#: Rows per page of ``/audit``.
PAGE_SIZE = 20
#: (audit message, user message) of a refusal.
REFUSAL = ("audit log is for admins", "Sorry, the audit log is only open to StreamOps admins.")


@dataclass(frozen=True)
class AuditView:
    """One page of the audit log with its counts, and the filters that chose it."""

    filters: AuditFilters
    page: AuditPage
    summary: AuditSummary


@dataclass(frozen=True)
class AuditExport:
    """The rows matching ``filters`` as CSV and JSON text, and when they were exported."""

    filters: AuditFilters
    count: int
    csv: str
    json: str
    at: datetime


class AuditService:
    """Reads of the audit log, for admins.

    Args:
        log: the audit log to read.
        gate: authorization and the audit trail.
        clock: the current time.
    """

    def __init__(self, log: AuditLog, gate: Gate, clock: Callable[[], datetime]) -> None:
        self.log = log
        self.gate = gate
        self.clock = clock

    async def _admin(self, actor: Actor, action: str) -> AuditTrail:
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "audit.query", action, Target(), refusal=REFUSAL)
        return trail

    async def query(self, actor: Actor, filter_text: str) -> AuditView:
        """The page the filters name, newest first, with counts by action and actor."""
        await self._admin(actor, "audit.query")
        filters = parse_filters(filter_text, now=self.clock())
        page = await self.log.query(filters, limit=PAGE_SIZE)
        summary = await self.log.summary(filters)
        return AuditView(filters, page, summary)

    async def export(self, actor: Actor, filter_text: str) -> AuditExport:
        """Every matching row as CSV and JSON (audited with the filters and the count)."""
        trail = await self._admin(actor, "audit.export")
        filters = parse_filters(filter_text, now=self.clock())
        csv_out, json_out = io.StringIO(), io.StringIO()
        count = await self.log.export(filters, "csv", csv_out)
        await self.log.export(filters, "json", json_out)
        params = {"filters": filters.as_text(), "rows": count}
        await trail.record("audit.export", "ok", Target(params=params))
        return AuditExport(filters, count, csv_out.getvalue(), json_out.getvalue(), self.clock())
