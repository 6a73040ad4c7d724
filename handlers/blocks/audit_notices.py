"""Audit integrity messages as Block Kit: published heads, verify results, failed-check alarms.

Pure functions: data in, ``(fallback text, blocks)`` out. Every text that
came from the database or a reason string is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.records import AuditAlarm, AuditHeadNotice, VerifyReport, WitnessHead
from bot.services.audit_verify import AUDIT_ALARM, AUDIT_HEAD
from handlers.blocks.parts import (
    Block,
    code,
    code_block,
    context,
    esc,
    mention,
    section,
    slack_date,
)

Message = tuple[str, list[Block]]


def audit_notice(notification: Mapping[str, Any]) -> Message | None:
    """The message of an audit notice from the outbox (None for any other notification)."""
    event = notification.get("event")
    if event == AUDIT_HEAD:
        return head_message(AuditHeadNotice.from_payload(notification))
    if event == AUDIT_ALARM:
        return alarm_message(AuditAlarm.from_payload(notification))
    return None


def head_message(notice: AuditHeadNotice) -> Message:
    """A signed chain head, posted to the audit channel as an outside witness."""
    head: WitnessHead = notice.head
    text = (
        f"Audit head: sequence {head.entry_id}, checkpoint {head.checkpoint_id},"
        f" hash {esc(head.entry_hash[:16])}…"
    )
    blocks = [
        section(
            f":lock: *Audit head* · sequence *{head.entry_id}* · checkpoint {head.checkpoint_id}"
            f" · {slack_date(head.created_at)}"
        ),
        section(code_block(head.to_json())),
        context(
            "Kept outside the database: `streamops audit verify` checks that this head is"
            " still in the log, unchanged."
        ),
    ]
    return text, blocks


def alarm_message(alarm: AuditAlarm) -> Message:
    """A failed scheduled verification, for the admins."""
    where = f" at sequence number {alarm.first_bad}" if alarm.first_bad is not None else ""
    mentions = " ".join(mention(admin) for admin in alarm.admins)
    text = f"Audit log verification FAILED ({esc(alarm.problem)}{where}): {esc(alarm.reason)}"
    blocks = [
        section(
            f":rotating_light: *Audit log verification failed* — *{esc(alarm.problem)}*{where}"
        ),
        section(esc(alarm.reason)),
        context(
            f"Checked {esc(alarm.at)}. Run `streamops audit verify` for the full report."
            + (f" {mentions}" if mentions else "")
        ),
    ]
    return text[:3000], blocks


def verify_result(report: VerifyReport) -> Message:
    """The answer to ``/audit verify``: ok with counts, or what is wrong and where."""
    details = "\n".join(esc(line) for line in report.details())
    if report.ok:
        text = (
            f"Audit log verified: {report.rows_checked} rows"
            f" ({report.keyed_rows} keyed, {report.unkeyed_rows} unkeyed)"
        )
        head = f"head: sequence {report.head_id} {code(report.head_hash or '-')}"
        return text, [section(f":white_check_mark: *{text}*"), context(f"{head}\n{details}")]
    where = f" at sequence number {report.first_bad_id}" if report.first_bad_id else ""
    text = f"Audit log verification FAILED ({report.problem}{where})"
    return text, [
        section(f":rotating_light: *{esc(text)}*"),
        section(esc(report.reason)),
        context(f"{report.rows_checked} rows checked before the problem\n{details}"),
    ]


def verify_started() -> str:
    """The immediate answer to ``/audit verify``."""
    return "Verifying the whole audit log in the background; I will answer here when it is done."
