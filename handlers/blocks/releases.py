"""Block Kit for the release timeline: live marks, the rollback picker, schedules, stamps (pure).

Projects are named in words (their name, the id beside it), builds by their
upload id in code. Every time is a Slack date token, so each reader sees it in
their own time zone. All provider and user text is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.records import (
    APPROVAL,
    CANCELLED,
    DONE,
    FAILED,
    MISSED,
    PENDING,
    REFUSED,
    VIA_ROLLBACK,
    LiveBuild,
    Schedule,
    Stamp,
)
from bot.services.release_view import BuildView, Readiness, RollbackChoices
from handlers import ids
from handlers.blocks.parts import (
    Block,
    actions,
    button,
    channel_ref,
    code,
    confirm_dialog,
    context,
    esc,
    mention,
    section,
    slack_date,
)

VERBS = {"distribute": "Distribute", "rollback": "Roll back to"}
#: How a stamp's source reads after the actor (nothing for a plain click or command).
_SOURCES = {"schedule": " (scheduled)", "scheduler": " (queued)", "queue": " (queued)"}
_STAMPS = {
    "distributed": ":rocket: Distributed by",
    "rolled_back": ":leftwards_arrow_with_hook: Rolled back to by",
    "approved": ":ballot_box_with_check: Approved by",
}


def _value(**fields: str | int) -> str:
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


def project_words(name: str | None, project_id: str) -> str:
    """``*Showroom Demo* (`664f…`)``, or just the id in code when the name is unknown."""
    if name:
        return f"*{esc(name)}* ({code(project_id)})"
    return f"project {code(project_id)}"


def build_words(upload_id: str, name: str | None, project_id: str) -> str:
    """``build `665a…` of *Showroom Demo* (`664f…`)``."""
    return f"build {code(upload_id)} of {project_words(name, project_id)}"


# -- stamps ------------------------------------------------------------------------


def stamp_line(stamp: Stamp) -> str:
    """One decision: what, who, when (and how, when not a plain click)."""
    head = _STAMPS.get(stamp.kind, esc(stamp.kind))
    how = _SOURCES.get(stamp.source, "")
    return f"{head} {mention(stamp.actor_id)}{how} {slack_date(stamp.at)}"


def stamps_block(stamps: Sequence[Stamp]) -> Block | None:
    """A context block with every decision on the build (the last 10), or None."""
    if not stamps:
        return None
    return context(*(stamp_line(s) for s in list(stamps)[-10:]))


# -- live marks ---------------------------------------------------------------------


def live_line(live: LiveBuild) -> str:
    """``live since <date>, distributed by @x`` (or made live by Streampixel)."""
    if live.by:
        verb = "rolled back to" if live.via == VIA_ROLLBACK else "distributed"
        who = f"{verb} by {mention(live.by)}{_SOURCES.get(live.source, '')}"
    else:
        who = "released by Streampixel"
    return f"since {slack_date(live.since)}, {who}"


def build_marks(view: BuildView) -> str:
    """The badge in front of a build line: live, previous live, rejected, processing."""
    if view.live is not None:
        return f":large_green_circle: *LIVE* {live_line(view.live)}"
    if view.previous_live is not None:
        return f":leftwards_arrow_with_hook: *previous live* ({live_line(view.previous_live)})"
    if view.readiness is Readiness.REJECTED:
        return ":x: rejected"
    if view.readiness is Readiness.PROCESSING:
        return ":hourglass_flowing_sand: processing"
    return ":white_check_mark: approved"


def build_line(view: BuildView) -> str:
    """One build: id, status and marks, objection, file and uploader."""
    build = view.build
    line = f"{code(build.upload_id)} · {build_marks(view)}"
    status = esc(build.last_status or "unknown")
    line += f"\nlast status *{status}*"
    if build.last_status_at:
        line += f" ({slack_date(build.last_status_at)})"
    if build.objection:
        line += f"\n> {esc(build.objection)}"
    details = []
    if build.file_url:
        details.append(esc(build.file_url))
    if build.requested_by:
        details.append(f"uploaded by {mention(build.requested_by)}")
    if build.auto_release is False:
        details.append("no auto-release")
    if details:
        line += "\n" + " · ".join(details)
    return line


# -- confirm dialogs and the rollback picker -----------------------------------------


def run_confirm(
    action: str,
    project_name: str | None,
    project_id: str,
    upload_id: str,
    *,
    known: bool = True,
    live_upload_id: str | None = None,
    when: datetime | None = None,
) -> Block:
    """The confirm dialog naming what a distribute or rollback will do (plain text)."""
    project = project_name or project_id
    if action == "rollback":
        replacing = f"live build {live_upload_id}" if live_upload_id else "the live build"
        text = (
            f"Streampixel will re-distribute build {upload_id} of {project} to its "
            f"streaming servers, replacing the {replacing}."
        )
    else:
        text = f"Streampixel will release build {upload_id} of {project} to its streaming servers."
    if when is not None:
        text = f"At {when:%Y-%m-%d %H:%M} UTC: {text}"
    if not known:
        text += " The bot has never seen this build: it is sent as typed."
    verb = "Schedule" if when is not None else VERBS[action].removesuffix(" to")
    title = f"{verb} this {'rollback' if action == 'rollback' else 'distribution'}?"
    style = "danger" if action == "rollback" else "primary"
    return confirm_dialog(title, text, verb, style=style)


def run_button(
    action: str,
    project_name: str | None,
    project_id: str,
    upload_id: str,
    *,
    label: str | None = None,
    known: bool = True,
    live_upload_id: str | None = None,
) -> Block:
    """A confirmed Distribute / Roll back button (the value names project and build)."""
    return button(
        label or VERBS[action].removesuffix(" to"),
        ids.BUILD_ROLLBACK if action == "rollback" else ids.BUILD_DISTRIBUTE,
        _value(project_id=project_id, upload_id=upload_id),
        style="danger" if action == "rollback" else "primary",
        confirm=run_confirm(
            action,
            project_name,
            project_id,
            upload_id,
            known=known,
            live_upload_id=live_upload_id,
        ),
    )


def run_offer(
    action: str,
    project_name: str,
    project_id: str,
    upload_id: str,
    *,
    known: bool,
    live_upload_id: str | None = None,
) -> list[Block]:
    """A distribute/rollback awaiting its confirmed click; says when the bot never saw the build."""
    verb = "Distribute" if action == "distribute" else "Roll back to"
    blocks = [section(f"{verb} {build_words(upload_id, project_name, project_id)}?")]
    if not known:
        blocks.append(
            context(
                ":grey_question: The bot has never seen this build (no upload or webhook): "
                "it will be sent as typed and Streampixel will judge it."
            )
        )
    blocks.append(
        actions(
            run_button(
                action,
                project_name,
                project_id,
                upload_id,
                known=known,
                live_upload_id=live_upload_id,
            )
        )
    )
    return blocks


def rollback_picker(project_name: str, project_id: str, choices: RollbackChoices) -> list[Block]:
    """``/build rollback <project>``: the last good build first, then other approved builds."""
    live_id = choices.live.upload_id if choices.live else None
    blocks: list[Block] = [section(f"*Roll back* {project_words(project_name, project_id)}")]
    if choices.live is not None:
        blocks.append(
            context(
                f":large_green_circle: Live now: {code(choices.live.upload_id)} "
                f"{live_line(choices.live)}"
            )
        )
    else:
        blocks.append(context("The bot does not know which build is live."))
    if choices.last_good is None and not choices.others:
        blocks.append(
            section(
                "No approved build to roll back to is known (rejected, unprocessed and live "
                "builds are never offered). Name one: "
                f"{code(f'/build rollback {project_id} <uploadId>')}."
            )
        )
        return blocks
    if choices.last_good is not None:
        good = choices.last_good
        blocks.append(
            section(
                f"*Roll back to the previous live build* {code(good.upload_id)}\n"
                + build_line(good),
                accessory=run_button(
                    "rollback",
                    project_name,
                    project_id,
                    good.upload_id,
                    label=f"Roll back to {good.upload_id}",
                    live_upload_id=live_id,
                ),
            )
        )
    if choices.others:
        blocks.append(context("Other approved builds, newest first:"))
    for view in choices.others:
        blocks.append(
            section(
                build_line(view),
                accessory=run_button(
                    "rollback",
                    project_name,
                    project_id,
                    view.upload_id,
                    label="Roll back",
                    live_upload_id=live_id,
                ),
            )
        )
    return blocks


def refused(action: str, project_name: str, project_id: str, upload_id: str, reason: str) -> str:
    """The answer when a distribute/rollback is known to fail (nothing was sent)."""
    verb = "distribute" if action == "distribute" else "roll back to"
    return (
        f":no_entry: Not sent: the bot will not {verb} "
        f"{build_words(upload_id, project_name, project_id)}. {esc(reason)}. "
        "Streampixel's distribute slot was not used."
    )


# -- scheduled runs -------------------------------------------------------------------


def schedule_offer(
    action: str,
    project_name: str,
    project_id: str,
    upload_id: str,
    when: datetime,
    *,
    known: bool,
    live_upload_id: str | None = None,
    approvals_needed: int = 0,
) -> list[Block]:
    """A scheduled distribute/rollback awaiting its confirmed click."""
    verb = "distribute" if action == "distribute" else "roll back to"
    blocks = [
        section(
            f":calendar: Schedule: {verb} {build_words(upload_id, project_name, project_id)} "
            f"at {slack_date(when)}?"
        )
    ]
    if not known:
        blocks.append(
            context(":grey_question: The bot has never seen this build: it will be sent as typed.")
        )
    if approvals_needed:
        blocks.append(
            context(
                f":ballot_box_with_check: This project needs {approvals_needed} approval(s): at "
                "that time the bot posts the approval request here, and the release runs once "
                "it is approved."
            )
        )
    blocks.append(
        actions(
            button(
                "Schedule",
                ids.BUILD_SCHEDULE,
                _value(a=action, p=project_id, u=upload_id, t=int(when.timestamp())),
                style="danger" if action == "rollback" else "primary",
                confirm=run_confirm(
                    action,
                    project_name,
                    project_id,
                    upload_id,
                    known=known,
                    live_upload_id=live_upload_id,
                    when=when,
                ),
            )
        )
    )
    return blocks


def _schedule_words(schedule: Schedule) -> str:
    verb = "distribute" if schedule.action == "distribute" else "roll back to"
    return f"{verb} {build_words(schedule.upload_id, schedule.project_name, schedule.project_id)}"


def cancel_button(schedule: Schedule) -> Block:
    """Cancel one scheduled run (requester or admin; checked on the server)."""
    return button(
        "Cancel",
        ids.BUILD_SCHEDULE_CANCEL,
        str(schedule.id),
        style="danger",
        confirm=confirm_dialog(
            "Cancel this scheduled run?",
            f"Run #{schedule.id} ({schedule.action} {schedule.upload_id} of "
            f"{schedule.project_name}) will not happen.",
            "Cancel the run",
            style="danger",
        ),
    )


def scheduled_notice(schedule: Schedule) -> list[Block]:
    """The spent Schedule button: what will run when, who asked, and a Cancel button."""
    return [
        section(
            f":calendar: {mention(schedule.requested_by)} scheduled run #{schedule.id}: "
            f"{_schedule_words(schedule)} at {slack_date(schedule.due_at)}. "
            "The result will be posted here.",
            accessory=cancel_button(schedule),
        )
    ]


def scheduled_list(schedules: Sequence[Schedule]) -> list[Block]:
    """``/build scheduled``: pending runs, soonest first, each with a Cancel button."""
    if not schedules:
        return [section("No distribution or rollback is scheduled.")]
    blocks: list[Block] = [section(f"*Scheduled runs* ({len(schedules)}), soonest first")]
    for schedule in schedules[:40]:
        line = (
            f"*#{schedule.id}* {slack_date(schedule.due_at)}: {_schedule_words(schedule)}\n"
            f"requested by {mention(schedule.requested_by)} in {channel_ref(schedule.channel_id)}"
        )
        if schedule.state == PENDING and schedule.run_at > schedule.due_at:
            line += f" · waiting for the distribute slot ({slack_date(schedule.run_at)})"
        if schedule.state == PENDING:
            blocks.append(section(line, accessory=cancel_button(schedule)))
        else:
            blocks.append(section(line + " · *running now*"))
    return blocks


def schedule_cancelled(schedule: Schedule) -> list[Block]:
    """The message of a cancelled run."""
    by = f"{mention(schedule.finished_by)}" if schedule.finished_by else "someone"
    return [
        section(
            f":wastebasket: {by} cancelled run #{schedule.id} ({_schedule_words(schedule)}, "
            f"due {slack_date(schedule.due_at)}) at {slack_date(schedule.finished_at)}."
        )
    ]


_OUTCOMES = {
    DONE: ":white_check_mark: Scheduled run #{id} done",
    FAILED: ":x: Scheduled run #{id} failed",
    REFUSED: ":no_entry: Scheduled run #{id} refused",
    MISSED: ":alarm_clock: Scheduled run #{id} missed",
    CANCELLED: ":wastebasket: Scheduled run #{id} cancelled",
    APPROVAL: ":ballot_box_with_check: Scheduled run #{id} is waiting for approval",
}


def schedule_report(schedule: Schedule, *, at: datetime) -> tuple[str, list[Block]]:
    """The scheduler's report in the scheduling channel: ``(fallback text, blocks)``."""
    outcome = _OUTCOMES.get(schedule.state)
    head = (
        outcome.format(id=schedule.id)
        if outcome
        else f":grey_question: Scheduled run #{schedule.id}: {esc(schedule.state)}"
    )
    what = _schedule_words(schedule)
    lines = [
        f"{head}: {what}, requested by {mention(schedule.requested_by)} for "
        f"{slack_date(schedule.due_at)}."
    ]
    if schedule.state == DONE:
        lines.append(f"Ran at {slack_date(at)}. Streampixel: {esc(schedule.message)}")
    elif schedule.state == MISSED:
        lines.append(
            f"No replica of the bot was running at the time; found {slack_date(at)}, too late "
            "to run it now. Nothing was sent: schedule it again if it is still wanted."
        )
    elif schedule.message:
        lines.append(esc(schedule.message))
    fallback = esc(
        f"{head.split(' ', 1)[1]}: {schedule.action} {schedule.upload_id} "
        f"of {schedule.project_name}"
    )
    return fallback, [section("\n".join(lines))]


# -- /build builds -----------------------------------------------------------------------


def builds_page(
    project_name: str,
    project_id: str,
    builds: Sequence[BuildView],
    *,
    live: LiveBuild | None,
    page: int,
    total: int,
    per_page: int,
) -> list[Block]:
    """``/build builds``: the builds, newest first, the live and previous live one marked."""
    blocks: list[Block] = [
        section(f"*Builds* of {project_words(project_name, project_id)}, newest first")
    ]
    if live is not None:
        blocks.append(
            context(f":large_green_circle: Live: {code(live.upload_id)} {live_line(live)}")
        )
    if not builds:
        blocks.append(context("The bot knows no builds of this project yet."))
        return blocks
    for view in builds[:40]:
        blocks.append(section(build_line(view)))
    pages = max(1, -(-total // max(per_page, 1)))
    blocks.append(context(f"Page {page} of {pages} · {total} builds"))
    nav: list[Block] = []
    if page > 1:
        nav.append(
            button("Previous", ids.BUILD_PAGE_PREV, _value(project_id=project_id, page=page - 1))
        )
    if page < pages:
        nav.append(
            button("Next", ids.BUILD_PAGE_NEXT, _value(project_id=project_id, page=page + 1))
        )
    if nav:
        blocks.append(actions(*nav))
    return blocks
