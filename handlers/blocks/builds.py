"""Block Kit for ``/build``: projects, user counts, builds, confirmations and outcomes.

Pure functions: data in, ``list[dict]`` blocks out. Every button that changes
something carries a ``confirm`` dialog naming exactly what will happen. Button
values are JSON (see :func:`action_value`), well under Slack's 2000 characters.
Times are shown with Slack's ``<!date^...>`` token so each reader sees their own
time zone, with a UTC fallback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.providers.streampixel import Project, UploadResult, UserStats
from bot.records import Build
from bot.services.builds import ProjectLine
from handlers import ids
from handlers.blocks.parts import (
    MESSAGE_BLOCK_LIMIT,
    Block,
    actions,
    button,
    code,
    confirm_dialog,
    context,
    esc,
    header,
    mention,
    section,
    slack_date,
)

#: Builds offered as rollback buttons (newest first).
ROLLBACK_CHOICES = 10
BUILDS_PER_PAGE = 10

VERBS = {"distribute": "Distribute", "rollback": "Roll back"}
DONE_VERBS = {"distribute": "distributed", "rollback": "rolled back to"}


# -- small pieces --------------------------------------------------------------


def hhmm(moment: datetime) -> str:
    """``HH:MM UTC`` for plain text (buttons)."""
    return moment.strftime("%H:%M UTC")


def action_value(**fields: str | int) -> str:
    """A compact JSON button value."""
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


def run_confirm(action: str, project_name: str, upload_id: str) -> Block:
    """The confirm dialog naming exactly what a distribute or rollback will do."""
    verb = VERBS[action]
    if action == "rollback":
        text = (
            f"Streampixel will re-distribute the older build {upload_id} of {project_name} "
            "to its streaming servers, replacing the live build."
        )
    else:
        text = (
            f"Streampixel will release build {upload_id} of {project_name} to the "
            "project's streaming servers."
        )
    style = "danger" if action == "rollback" else "primary"
    return confirm_dialog(f"{verb} this build?", text, verb, style=style)


def _run_button(action: str, project: Project, upload_id: str, label: str | None = None) -> Block:
    action_id = ids.BUILD_ROLLBACK if action == "rollback" else ids.BUILD_DISTRIBUTE
    return button(
        label or VERBS[action],
        action_id,
        action_value(project_id=project.id, upload_id=upload_id),
        style="danger" if action == "rollback" else "primary",
        confirm=run_confirm(action, project.name, upload_id),
    )


# -- read-only views -------------------------------------------------------------


def projects_overview(lines: Sequence[ProjectLine]) -> list[Block]:
    """``/build projects``: name, id, enabled, subscription and live/queued users."""
    blocks: list[Block] = [header("Streampixel projects")]
    if not lines:
        return [*blocks, section("This account has no projects.")]
    shown = lines[: MESSAGE_BLOCK_LIMIT - 2]
    for line in shown:
        p = line.project
        state = ":large_green_circle: enabled" if p.enabled else ":red_circle: disabled"
        if line.stats is not None:
            users = f"{line.stats.live_users} live · {line.stats.queued_users} queued"
        else:
            users = f"users n/a ({esc(line.stats_error or 'unavailable')})"
        subscription = esc(p.subscription_status or "unknown")
        blocks.append(
            section(
                f"*{esc(p.name)}*  {code(p.id)}\n{state} · subscription {subscription} · {users}"
            )
        )
    if len(lines) > len(shown):
        blocks.append(context(f"…and {len(lines) - len(shown)} more projects not shown."))
    return blocks


def user_stats(project: Project, stats: UserStats) -> list[Block]:
    """``/build users``: live and queued users of one project."""
    return [
        section(
            f"*{esc(project.name)}*  {code(project.id)}\n"
            f":busts_in_silhouette: *{stats.live_users}* live · "
            f":hourglass_flowing_sand: *{stats.queued_users}* queued"
        )
    ]


def builds_page(project: Project, builds: Sequence[Build], *, page: int, total: int) -> list[Block]:
    """``/build builds``: known uploads with their last pipeline status, paginated."""
    blocks: list[Block] = [
        section(f"*Builds of {esc(project.name)}* ({code(project.id)}), newest first")
    ]
    if not builds:
        blocks.append(context("The bot knows no builds of this project yet."))
        return blocks
    for build in builds:
        blocks.append(section(_build_line(build)))
    pages = max(1, -(-total // BUILDS_PER_PAGE))
    blocks.append(context(f"Page {page} of {pages} · {total} builds"))
    nav: list[Block] = []
    if page > 1:
        nav.append(
            button(
                "Previous", ids.BUILD_PAGE_PREV, action_value(project_id=project.id, page=page - 1)
            )
        )
    if page < pages:
        nav.append(
            button("Next", ids.BUILD_PAGE_NEXT, action_value(project_id=project.id, page=page + 1))
        )
    if nav:
        blocks.append(actions(*nav))
    return blocks


def _build_line(build: Build) -> str:
    status = esc(build.last_status or "unknown")
    line = f"{code(build.upload_id)} · *{status}*"
    if build.last_status_at:
        line += f" ({slack_date(build.last_status_at)})"
    if build.objection:
        line += f"\n> {esc(build.objection)}"
    details = []
    if build.file_url:
        details.append(esc(build.file_url))
    if build.requested_by:
        details.append(f"by {mention(build.requested_by)}")
    if build.auto_release is False:
        details.append("no auto-release")
    if details:
        line += "\n" + " · ".join(details)
    return line


# -- changes ---------------------------------------------------------------------


def upload_accepted(
    project: Project, result: UploadResult, *, file_url: str, auto_release: bool, actor_id: str
) -> list[Block]:
    """The build was queued by Streampixel; notifications follow its pipeline."""
    release = (
        "It will be distributed automatically once approved."
        if auto_release
        else "Distribute it when approved: "
        + code(f"/build distribute {project.id} {result.upload_id}")
        + "."
    )
    return [
        section(
            f":inbox_tray: {mention(actor_id)} uploaded a build to *{esc(project.name)}*\n"
            f"Upload {code(result.upload_id)}: {esc(result.message)}\n{release}"
        ),
        context(esc(file_url)),
    ]


def run_offer(action: str, project: Project, upload_id: str) -> list[Block]:
    """A distribute/rollback request awaiting its confirmed click."""
    verb = "Distribute" if action == "distribute" else "Roll back to"
    return [
        section(f"{verb} build {code(upload_id)} of *{esc(project.name)}* ({code(project.id)})?"),
        actions(_run_button(action, project, upload_id)),
    ]


def rollback_choices(project: Project, builds: Sequence[Build]) -> list[Block]:
    """The builds the bot knows for a project, newest first, each a rollback button."""
    if not builds:
        return [
            section(
                f"The bot knows no builds of *{esc(project.name)}* yet. "
                f"Name one: {code(f'/build rollback {project.id} <uploadId>')}."
            )
        ]
    blocks: list[Block] = [
        section(f"*Roll back {esc(project.name)}*: pick a build (newest first).")
    ]
    for build in builds[:ROLLBACK_CHOICES]:
        accessory = _run_button("rollback", project, build.upload_id, "Roll back")
        blocks.append(section(_build_line(build), accessory=accessory))
    return blocks


def run_done(
    action: str,
    project_id: str,
    upload_id: str,
    *,
    actor_id: str,
    at: datetime,
    message: str,
    project_name: str | None = None,
) -> list[Block]:
    """The spent message: who distributed (or rolled back to) which build, and when."""
    project = f"*{esc(project_name)}* ({code(project_id)})" if project_name else code(project_id)
    return [
        section(
            f":white_check_mark: {mention(actor_id)} {esc(DONE_VERBS.get(action, action))} "
            f"build {code(upload_id)} of {project} at {slack_date(at)}.\n"
            f"Streampixel: {esc(message)}"
        )
    ]


def already_done(action: str, actor_id: str, at: datetime, outcome: str | None) -> str:
    """The reply to a click on a button somebody already used."""
    state = {None: "is running it", "ok": "did it", "failed": "tried it (it failed)"}
    return (
        f"This {esc(VERBS.get(action, action).lower())} was already used: {mention(actor_id)} "
        f"{state.get(outcome, 'used it')} at {slack_date(at)}."
    )


def slot_busy(action: str, project_id: str, upload_id: str, next_at: datetime) -> list[Block]:
    """Streampixel's slot is in use: when it opens, and a button to queue for then."""
    return [
        section(
            f":hourglass: Streampixel's distribute slot for this account is in use. "
            f"The next slot opens at {slack_date(next_at)}.\n"
            f"Build {code(upload_id)} of {code(project_id)} was *not* {DONE_VERBS[action]} yet."
        ),
        actions(
            button(
                f"Queue for {hhmm(next_at)}",
                ids.BUILD_QUEUE_DISTRIBUTE,
                action_value(action=action, project_id=project_id, upload_id=upload_id),
                style="primary",
            )
        ),
    ]


def queued_notice(
    action: str, project_id: str, upload_id: str, *, actor_id: str, run_at: datetime
) -> list[Block]:
    """The spent queue button: what was queued, by whom, for when."""
    return [
        section(
            f":calendar: {mention(actor_id)} queued: {VERBS[action].lower()} build "
            f"{code(upload_id)} of {code(project_id)} at {slack_date(run_at)}. "
            "The result will be posted here."
        )
    ]


def queued_result(
    action: str,
    project_id: str,
    upload_id: str,
    *,
    requested_by: str,
    outcome: str,
    message: str,
    at: datetime,
) -> list[Block]:
    """The scheduler's report on a queued distribution."""
    if outcome == "ok":
        head = (
            f":white_check_mark: Queued {VERBS[action].lower()} of build {code(upload_id)} "
            f"({code(project_id)}), requested by {mention(requested_by)}, ran at {slack_date(at)}."
        )
    else:
        head = (
            f":x: Queued {VERBS[action].lower()} of build {code(upload_id)} ({code(project_id)}), "
            f"requested by {mention(requested_by)}, failed at {slack_date(at)}."
        )
    return [section(f"{head}\nStreampixel: {esc(message)}")]
