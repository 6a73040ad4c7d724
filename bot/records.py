"""The stored records the renderers show, for the layers above storage.

Storage owns these types (it persists them); services return them; handlers and
their pure renderers (``handlers/blocks``) import them from here, never from
``storage``, so the layers stay ``handlers → bot → storage``.
"""

from storage.audit import AuditPage, AuditSummary
from storage.audit_chain import AuditRecord
from storage.audit_notices import AuditAlarm, AuditHeadNotice
from storage.audit_verify import VerifyReport
from storage.audit_witness import WitnessHead
from storage.builds import Build
from storage.release_notices import SCHEDULE_REPORT, schedule_from_payload
from storage.schedules import APPROVAL, CANCELLED, DONE, FAILED, MISSED, PENDING, REFUSED, Schedule
from storage.subscriptions import Subscription
from storage.timeline import VIA_ROLLBACK, LiveBuild, Stamp
from storage.webhooks import WebhookDelivery

__all__ = [
    "APPROVAL",
    "CANCELLED",
    "DONE",
    "FAILED",
    "MISSED",
    "PENDING",
    "REFUSED",
    "SCHEDULE_REPORT",
    "VIA_ROLLBACK",
    "AuditAlarm",
    "AuditHeadNotice",
    "AuditPage",
    "AuditRecord",
    "AuditSummary",
    "Build",
    "LiveBuild",
    "Schedule",
    "Stamp",
    "Subscription",
    "VerifyReport",
    "WebhookDelivery",
    "WitnessHead",
    "schedule_from_payload",
]
