"""Every table model, imported here so SQLModel.metadata knows them all.

Each feature keeps its tables in its own module; this one only gathers them
(listed in ``__all__`` so linters keep the imports).
"""

from __future__ import annotations

from storage import (
    approvals,
    audit_models,
    builds,
    coordination,
    freezes,
    live_sessions,
    operations,
    outbox,
    pending_deletes,
    roles,
    schedules,
    streamapi_rid,
    subscriptions,
    timeline,
    webhooks,
)

__all__ = [
    "approvals",
    "audit_models",
    "builds",
    "coordination",
    "freezes",
    "live_sessions",
    "operations",
    "outbox",
    "pending_deletes",
    "roles",
    "schedules",
    "streamapi_rid",
    "subscriptions",
    "timeline",
    "webhooks",
]
