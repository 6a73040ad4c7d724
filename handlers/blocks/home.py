"""The App Home view (pure): the user's dashboard, the operations view for admins, the commands.

Everyone sees the live build per Streampixel project, active and upcoming freezes, pending
approvals (Approve/Reject for those who may), scheduled and queued runs, and their own last
actions; admins also see webhook health per provider, the outbox backlog, failed notifications
with a Retry button, and the audit chain's state. A section whose feature is absent (``None``)
is left out. The view stays within Slack's 100-block limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.home import (
    ActionRow,
    ApprovalRow,
    AuditState,
    FreezeRow,
    Home,
    LiveRow,
    Operations,
    PlannedRun,
    RetryResult,
)
from handlers import ids
from handlers.blocks.parts import (
    actions,
    button,
    clip,
    code,
    confirm_dialog,
    context,
    divider,
    duration_text,
    esc,
    fields_section,
    header,
    mention,
    section,
    slack_date,
)

Block = dict[str, Any]

#: Slack's limit on blocks in a Home tab view.
MAX_BLOCKS = 100
#: A section's text limit (Slack: 3000 characters).
_TEXT = 2900

COMMANDS = (
    ("/build", "Streampixel builds: projects, upload, distribute, rollback"),
    ("/media", "StreamStack videos: list, info, stats, upload, delete, embed"),
    ("/live", "StreamAPI live sessions: list, info, create, recordings, themes"),
    ("/audit", "Who distributed or deleted what (admins)"),
    ("/streamops", "Help, roles, subscriptions and webhook events"),
)


def home_view(home: Home | None = None, *, notice: str | None = None) -> dict[str, Any]:
    """The Home tab of ``home.user_id`` (just the commands when ``home`` is None).

    Args:
        notice: a line of mrkdwn shown at the top (what the last click did; already escaped).
    """
    blocks: list[Block] = [header("StreamOps")]
    if notice:
        blocks.append(section(notice))
    if home is not None:
        blocks.append(
            actions(
                button("Refresh", ids.HOME_REFRESH, "refresh"),
                block_id="home_toolbar",
            )
        )
        blocks.append(context(f"Updated {slack_date(home.now)}"))
        blocks += _everyone(home)
        if home.operations is not None:
            blocks += _operations(home.operations, home.now)
    blocks += [divider(), section(_commands()), context("`/streamops help` for every subcommand.")]
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context("More than fits here: use the commands.")]
    return {"type": "home", "blocks": blocks}


def retry_notice(result: RetryResult) -> str:
    """What a Retry click did, as the line on top of the refreshed Home tab."""
    failed = result.retried
    if not result.ok or failed is None:
        return f":information_source: {esc(result.message)}"
    subject = f" {code(failed.subject)}" if failed.subject else ""
    return (
        f":repeat: Retried: {esc(failed.event)}{subject} is queued again for "
        f"<#{esc(failed.channel)}>."
    )


def _commands() -> str:
    return "\n".join(f"*{cmd}*  {what}" for cmd, what in COMMANDS)


def _lines(lines: list[str], empty: str) -> str:
    return clip("\n".join(lines), _TEXT) if lines else f"_{empty}_"


def _everyone(home: Home) -> list[Block]:
    blocks: list[Block] = []
    if home.live is not None:
        blocks += [divider(), section("*Live builds*\n" + _lines(
            [_live_line(row) for row in home.live], "No live build recorded yet."
        ))]  # fmt: skip
    if home.freezes is not None:
        blocks.append(section("*Freezes*\n" + _lines(
            [_freeze_line(row) for row in home.freezes], "No freeze now or coming."
        )))  # fmt: skip
    if home.approvals is not None:
        blocks.append(section("*Pending approvals*" + ("" if home.approvals else "\n_None._")))
        for approval in home.approvals:
            blocks += _approval(approval)
    if home.planned is not None:
        blocks.append(section("*Scheduled and queued*\n" + _lines(
            [_planned_line(run) for run in home.planned], "Nothing scheduled or queued."
        )))  # fmt: skip
    blocks.append(section("*Your last actions*\n" + _lines(
        [_action_line(row) for row in home.my_actions], "Nothing yet."
    )))  # fmt: skip
    return blocks


def _live_line(row: LiveRow) -> str:
    how = "" if row.via == "provider" else f" ({esc(row.via)})"
    return (
        f"*{esc(row.project_name)}*: build {code(row.upload_id)}, live since "
        f"{slack_date(row.since)}{how}"
    )


def _freeze_line(row: FreezeRow) -> str:
    scope = "every project" if row.project_name in ("*", "") else f"*{esc(row.project_name)}*"
    when = (
        f"until {slack_date(row.ends_at)}"
        if row.active
        else f"from {slack_date(row.starts_at)} to {slack_date(row.ends_at)}"
    )
    state = ":snowflake: Frozen" if row.active else ":calendar: Upcoming"
    reason = f": {esc(row.reason)}" if row.reason else ""
    return f"{state}: {scope} {when}{reason}"


def _approval(row: ApprovalRow) -> list[Block]:
    text = (
        f"#{row.id} {mention(row.requested_by)} asks to {esc(row.action)} build "
        f"{code(row.upload_id)} of *{esc(row.project_name)}*: {row.votes} of {row.needed} "
        f"approvals, until {slack_date(row.expires_at)}"
    )
    blocks = [section(text)]
    if row.may_vote:
        value = str(row.id)
        blocks.append(
            actions(
                button(
                    "Approve",
                    ids.APPROVAL_APPROVE,
                    value,
                    style="primary",
                    confirm=confirm_dialog(
                        "Approve this release?",
                        f"Approve: {row.action} build {row.upload_id} of {row.project_name}.",
                        "Approve",
                        style="primary",
                    ),
                ),
                button("Reject…", ids.APPROVAL_REJECT, value, style="danger"),
                block_id=f"home_approval_{row.id}",
            )
        )
    return blocks


def _planned_line(run: PlannedRun) -> str:
    icon = ":alarm_clock:" if run.kind == "scheduled" else ":hourglass_flowing_sand:"
    return (
        f"{icon} {esc(run.action)} {code(run.upload_id)} of *{esc(run.project)}* at "
        f"{slack_date(run.run_at)} ({esc(run.kind)} by {mention(run.requested_by)})"
    )


_OUTCOME_ICON = {"ok": ":white_check_mark:", "denied": ":no_entry:", "failed": ":x:"}


def _action_line(row: ActionRow) -> str:
    icon = _OUTCOME_ICON.get(row.outcome, ":grey_question:")
    target = f" {code(row.target)}" if row.target else ""
    return f"{icon} {slack_date(row.at)} {esc(row.action)}{target}"


# -- admins ----------------------------------------------------------------------


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "never"
    return f"{duration_text(max((now - since).total_seconds(), 0))} ago"


def _operations(ops: Operations, now: datetime) -> list[Block]:
    blocks: list[Block] = [divider(), header("Operations (admins)")]
    blocks.append(
        fields_section(
            f"*{esc(h.provider)} webhooks*\nlast {_age(h.last_received_at, now)}\n"
            f"24 h: {h.accepted} accepted, {h.duplicate} duplicate, {h.refused} refused"
            for h in ops.health
        )
    )
    oldest = (
        f", oldest waiting {_age(ops.backlog.oldest_at, now).removesuffix(' ago')}"
        if ops.backlog.oldest_at
        else ""
    )
    blocks.append(
        section(
            f"*Outbox*: {ops.backlog.pending} notifications waiting{oldest}; "
            f"{ops.backlog.failed} failed"
        )
    )
    if ops.failed:
        blocks.append(section("*Failed notifications*"))
    for failed in ops.failed:
        subject = f" {code(failed.subject)}" if failed.subject else ""
        text = (
            f"{esc(failed.event)}{subject} to <#{esc(failed.channel)}>: "
            f"{code(failed.error or 'unknown error')} ({slack_date(failed.finished_at)})"
        )
        blocks.append(
            section(
                text,
                accessory=button(
                    "Retry",
                    ids.HOME_RETRY_DELIVERY,
                    str(failed.id),
                    confirm=confirm_dialog(
                        "Retry this notification?",
                        "It is queued again and posted once more.",
                        "Retry",
                    ),
                ),
            )
        )
    if ops.audit is not None:
        blocks.append(section(_audit_text(ops.audit)))
    return blocks


def _audit_text(audit: AuditState) -> str:
    lines = [f"*Audit log*: {audit.rows} rows"]
    if audit.verified_ok is not None:
        verdict = ":white_check_mark: intact" if audit.verified_ok else ":rotating_light: BROKEN"
        detail = f": {esc(audit.verify_detail)}" if audit.verify_detail else ""
        lines.append(f"Last verification {slack_date(audit.verified_at)}: {verdict}{detail}")
    else:
        lines.append("Last verification: none recorded (`streamops audit verify`)")
    if audit.checkpoint_at is not None:
        lines.append(
            f"Last checkpoint {slack_date(audit.checkpoint_at)} at row {audit.checkpoint_entry}"
        )
    return "\n".join(lines)
