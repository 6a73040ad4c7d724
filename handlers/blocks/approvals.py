"""Pure renderers for release governance: approval requests, policies, freezes, overrides.

Data in, ``(text, blocks)`` or blocks out; no I/O. Every user or provider
string (project names, reasons, notes) is escaped for mrkdwn; the fallback
``text`` is escaped too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.services.governance import (
    APPROVED,
    DONE,
    EXPIRED,
    FAILED,
    PENDING,
    REJECTED,
    RUNNING,
    ApprovalRequest,
    Freeze,
    Policy,
)
from bot.services.governance_notices import (
    APPROVAL_MESSAGE,
    FREEZE_ENDED,
    FREEZE_OVERRIDDEN,
    approval_from_payload,
    freeze_from_payload,
)
from handlers import ids
from handlers.blocks.parts import (
    Block,
    actions,
    button,
    code,
    confirm_dialog,
    context,
    esc,
    fields_section,
    header,
    mention,
    section,
    slack_date,
)

Message = tuple[str, list[Block]]

APPROVER_WORDS = {"releaser": "releasers and admins", "admin": "admins"}


def what(action: str, project_name: str, upload_id: str) -> str:
    """``distribute build `u1` of *Showroom*`` / ``roll *Showroom* back to build `u1```."""
    project = f"*{esc(project_name)}*"
    if action == "rollback":
        return f"roll {project} back to build {code(upload_id)}"
    return f"distribute build {code(upload_id)} of {project}"


def _people(user_ids: Sequence[str]) -> str:
    return ", ".join(f"{mention(u)}" for u in user_ids) or "nobody yet"


def _outcome(request: ApprovalRequest) -> str:
    voters = _people(request.voters)
    last = f"{mention(request.decided_by)}" if request.decided_by else "someone"
    note = esc(request.note)
    when = slack_date(request.decided_at)
    if request.status == PENDING:
        deadline = slack_date(request.expires_at)
        return f":hourglass_flowing_sand: Waiting for approvals until {deadline}."
    if request.status in (APPROVED, RUNNING):
        tail = f" ({note})" if note else ""
        return f":white_check_mark: Approved by {voters}; {last} gave the last one. Running{tail}."
    if request.status == DONE:
        return (
            f":rocket: Approved by {voters}; the last approval by {last} ran it {when}. "
            f"Streampixel said: {note}"
        )
    if request.status == FAILED:
        return f":x: Approved by {voters} ({last} last), but the run failed {when}: {note}"
    if request.status == REJECTED:
        return f":no_entry: Rejected by {last} {when}: {note}"
    if request.status == EXPIRED:
        return (
            f":hourglass: Expired {slack_date(request.expires_at)} with "
            f"{len(request.votes)} of {request.needed} approvals. Nothing was sent."
        )
    return esc(request.status)


def approval_request(request: ApprovalRequest) -> Message:
    """The request's channel message: who asks what, the count, the deadline, the buttons.

    Buttons are shown only while the request is pending; afterwards the message
    says how it ended and who triggered it.
    """
    verb = what(request.action, request.project_name, request.upload_id)
    ask = f"{mention(request.requested_by)} asks to {verb}."
    blocks: list[Block] = [header(f"Approval #{request.id}: {request.action}"), section(ask)]
    if request.reason:
        blocks.append(section(f"*Reason:* {esc(request.reason)}"))
    who = APPROVER_WORDS.get(request.approvers, esc(request.approvers))
    blocks.append(
        fields_section(
            [
                f"*Approvals*\n{len(request.votes)} of {request.needed}: {_people(request.voters)}",
                f"*Deadline*\n{slack_date(request.expires_at)}",
                f"*Who may approve*\n{who}, not the requester",
                f"*Project*\n{esc(request.project_name)} ({code(request.project_id)})",
            ]
        )
    )
    blocks.append(section(_outcome(request)))
    if request.status == PENDING:
        value = str(request.id)
        blocks.append(
            actions(
                button(
                    "Approve",
                    ids.APPROVAL_APPROVE,
                    value,
                    style="primary",
                    confirm=confirm_dialog(
                        "Approve this release?",
                        f"Approve: {request.action} build {request.upload_id} of "
                        f"{request.project_name}.",
                        "Approve",
                        style="primary",
                    ),
                ),
                button("Reject…", ids.APPROVAL_REJECT, value, style="danger"),
                block_id=f"approval_{request.id}",
            )
        )
    text = (
        f"Approval #{request.id}: {mention(request.requested_by)} asks to {verb} "
        f"({len(request.votes)} of {request.needed} approvals; {esc(request.status)})"
    )
    return text, blocks


def requested_note(request: ApprovalRequest) -> Message:
    """The reply to the click that made a request: nothing was sent yet, and why."""
    verb = what(request.action, request.project_name, request.upload_id)
    text = (
        f":raised_hand: Approval needed: {request.needed} approval(s) from "
        f"{APPROVER_WORDS.get(request.approvers, esc(request.approvers))} before the bot will "
        f"{verb}. Request #{request.id} is posted in this channel; it expires "
        f"{slack_date(request.expires_at)}. Nothing was sent to Streampixel yet."
    )
    return text, [section(text)]


def vote_counted(request: ApprovalRequest) -> str:
    """The ephemeral reply to an approval that did not complete the count."""
    return (
        f":white_check_mark: Your approval of request #{request.id} is counted: "
        f"{len(request.votes)} of {request.needed}."
    )


def policy_text(project_name: str, policy: Policy) -> str:
    """A project's approval policy in words."""
    name = f"*{esc(project_name)}*"
    if policy.approvals == 0:
        body = f"{name}: distribute and rollback run at once (no approvals needed)."
    else:
        who = APPROVER_WORDS.get(policy.approvers, esc(policy.approvers))
        body = (
            f"{name}: distribute and rollback need *{policy.approvals}* approval(s) from "
            f"{who}, not counting the requester."
        )
    if policy.updated_by:
        body += f" Set by {mention(policy.updated_by)} {slack_date(policy.updated_at)}."
    return body


def _scope(freeze: Freeze) -> str:
    return "*all projects*" if freeze.is_all else f"*{esc(freeze.project_name)}*"


def freeze_line(freeze: Freeze, now: datetime) -> str:
    """One freeze in a list: scope, window, who, reason."""
    if freeze.starts_at > now:
        window = f"from {slack_date(freeze.starts_at)} until {slack_date(freeze.until)}"
        state = ":calendar: upcoming"
    else:
        window = f"until {slack_date(freeze.until)}"
        state = ":snowflake: active"
    return (
        f"{state}: {_scope(freeze)} {window}, by {mention(freeze.frozen_by)}: {esc(freeze.reason)}"
    )


def freezes_list(freezes: Sequence[Freeze], now: datetime) -> Message:
    """``/streamops freezes``: active and upcoming freezes."""
    if not freezes:
        text = "No freezes: releases are open."
        return text, [section(f":sunny: {text}")]
    lines = [freeze_line(f, now) for f in freezes]
    text = f"{len(freezes)} freeze(s)"
    return text, [section("*Freezes*"), *(section(line) for line in lines)]


def freeze_set(freeze: Freeze, now: datetime) -> Message:
    """The in-channel reply to ``/streamops freeze``."""
    line = freeze_line(freeze, now)
    text = (
        f"{line}. Distribute, rollback, queued and scheduled runs and auto-releasing uploads "
        f"{'and video deletes ' if freeze.is_all else ''}are refused until then."
    )
    return text, [section(text)]


def unfrozen(scope_name: str, lifted: Sequence[Freeze], actor_id: str) -> str:
    """The reply to ``/streamops unfreeze``."""
    if not lifted:
        return f"Nothing to lift: *{esc(scope_name)}* has no active or upcoming freeze of its own."
    return f":sunny: {mention(actor_id)} lifted {len(lifted)} freeze(s) on *{esc(scope_name)}*."


def freeze_ended(freeze: Freeze) -> Message:
    """The channel message when a freeze ends by itself."""
    text = (
        f":sunny: The freeze on {_scope(freeze)} set by {mention(freeze.frozen_by)} "
        f"({esc(freeze.reason)}) ended {slack_date(freeze.until)}. Releases are open again."
    )
    return text, [section(text)]


def frozen_refusal(
    text: str, *, may_override: bool, action: str, project_id: str | None, subject: str
) -> list[Block]:
    """The refusal of a frozen action; admins get an **Override…** button."""
    blocks = [section(text)]
    if may_override:
        value = json.dumps({"action": action, "project_id": project_id, "subject": subject})
        blocks.append(
            actions(button("Override…", ids.FREEZE_OVERRIDE, value, style="danger")),
        )
        blocks.append(context("Admins may override the freeze for this one action, with a reason."))
    return blocks


def override_announcement(
    actor_id: str, action: str, subject: str, reason: str, freeze: Freeze
) -> Message:
    """The channel announcement of an admin's override."""
    text = (
        f":warning: {mention(actor_id)} overrode the freeze on {_scope(freeze)} "
        f"for one {esc(action)} ({code(subject)}): {esc(reason)}"
    )
    return text, [section(text)]


def governance_message(notification: Mapping[str, Any]) -> Message | None:
    """The message of a governance outbox notification, or None for any other kind."""
    event = notification.get("event")
    if event == APPROVAL_MESSAGE:
        return approval_request(approval_from_payload(notification))
    if event == FREEZE_ENDED:
        return freeze_ended(freeze_from_payload(notification))
    if event == FREEZE_OVERRIDDEN:
        return override_announcement(
            str(notification.get("actor_id", "")),
            str(notification.get("action", "")),
            str(notification.get("subject", "")),
            str(notification.get("reason", "")),
            freeze_from_payload(notification),
        )
    return None
