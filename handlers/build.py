"""``/build``: Streampixel projects, users, upload, distribute, rollback, builds; its buttons.

Thin listeners: parse the payload, call :class:`bot.services.releases.Releases`
(which authorizes, claims one-shot buttons, takes the rate slot, calls
Streampixel and audits), render with :mod:`handlers.blocks.builds`, answer.
Distribute and rollback only run from a button whose ``confirm`` dialog names
the build; a button runs once and its message is then replaced by who did what.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.services.builds import SlotBusy
from bot.services.oneshot import AlreadyUsed
from bot.services.releases import ApprovalRequested, BuildsPage, QueuedNotice, Released
from handlers import ids, upload_forms
from handlers.blocks import approvals as approval_blocks
from handlers.blocks import builds as blocks
from handlers.blocks import releases
from handlers.blocks.parts import Block, code, esc, mention, slack_date, spend_button
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    button_of,
    click_listener,
    clicked_value,
    message_blocks,
)
from handlers.router import Invocation, Routers, Subcommand
from handlers.schedule import is_scheduled, offer_schedule

NO_AUTO_RELEASE = "--no-auto-release"


def bare_url(text: str) -> str:
    """A URL as typed, without the ``<...>`` or ``<...|label>`` wrapping Slack may add."""
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    return text


def parse_value(raw: str, *keys: str) -> dict[str, Any]:
    """A button's JSON value with ``keys`` present (a forged or stale value is refused)."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidInput("this button's value could not be read") from None
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str | int) for k in keys):
        raise InvalidInput("this button's value could not be read")
    return value


# -- subcommands ---------------------------------------------------------------------


async def projects(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build projects``."""
    lines = await c.releases.overview(actor_of_command(inv, c.clock()))
    await respond(
        text=f"{len(lines)} Streampixel projects",
        blocks=blocks.projects_overview(lines),
        response_type="ephemeral",
    )


async def users(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build users <project>``."""
    project, stats = await c.releases.users(actor_of_command(inv, c.clock()), inv.args[0])
    await respond(
        text=f"{esc(project.name)}: {stats.live_users} live, {stats.queued_users} queued",
        blocks=blocks.user_stats(project, stats),
        response_type="ephemeral",
    )


async def upload(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build upload <project> <zip-url> [--no-auto-release]``; alone, it opens a form."""
    if not inv.args:
        await upload_forms.open_build_form(inv, c)
        return
    if len(inv.args) < 2:
        raise InvalidInput(
            "`/build upload` needs a project and the build's .zip URL (or nothing, for a form)"
        )
    flags = inv.args[2:]
    if flags and flags[0].lower() != NO_AUTO_RELEASE:
        raise InvalidInput(f"unknown option {code(flags[0])}; the only option is {NO_AUTO_RELEASE}")
    actor = actor_of_command(inv, c.clock())
    file_url = bare_url(inv.args[1])
    result = await c.releases.upload(actor, inv.args[0], file_url, auto_release=not flags)
    if isinstance(result, SlotBusy):
        text = (
            "Streampixel's upload slot for this account is in use; the next slot opens "
            f"at {slack_date(result.next_at)}. Nothing was sent."
        )
        await respond(text=f":hourglass: {text}", response_type="ephemeral")
        return
    await respond(
        text=f"Build {esc(result.result.upload_id)} queued for processing",
        blocks=blocks.upload_accepted(
            result.project,
            result.result,
            file_url=result.file_url,
            auto_release=result.auto_release,
            actor_id=result.actor_id,
        ),
        response_type="in_channel",
    )


async def distribute(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/build distribute <project> <uploadId> [at …|in …]``: offer a confirmed button."""
    if is_scheduled(inv.args):
        await offer_schedule("distribute", inv, c, respond)
        return
    if len(inv.args) > 2:
        raise InvalidInput("after the upload id, say when: `at 18:00`, `at <ISO 8601>` or `in 2h`")
    actor = actor_of_command(inv, c.clock())
    offer = await c.releases.offer(actor, "distribute", inv.args[0], inv.args[1])
    await respond(
        text=f"Distribute build {esc(inv.args[1])} of {esc(offer.project.name)}?",
        blocks=releases.run_offer(
            "distribute",
            offer.project.name,
            offer.project.id,
            inv.args[1],
            known=offer.build_known,
            live_upload_id=offer.live_upload_id,
        ),
        response_type="in_channel",
    )


async def rollback(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build rollback <project> [uploadId]``: offer the named build, or the known ones."""
    if is_scheduled(inv.args):
        await offer_schedule("rollback", inv, c, respond)
        return
    if len(inv.args) > 2:
        raise InvalidInput("after the upload id, say when: `at 18:00`, `at <ISO 8601>` or `in 2h`")
    actor = actor_of_command(inv, c.clock())
    upload_id = inv.args[1] if len(inv.args) == 2 else None
    offer = await c.releases.offer(
        actor, "rollback", inv.args[0], upload_id, choices=blocks.ROLLBACK_CHOICES
    )
    project = offer.project
    if upload_id is not None:
        shown = releases.run_offer(
            "rollback",
            project.name,
            project.id,
            upload_id,
            known=offer.build_known,
            live_upload_id=offer.live_upload_id,
        )
    else:
        assert offer.choices is not None
        shown = releases.rollback_picker(project.name, project.id, offer.choices)
    await respond(
        text=f"Roll back {esc(offer.project.name)}", blocks=shown, response_type="in_channel"
    )


async def builds(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build builds <project>``: the first page of known builds."""
    actor = actor_of_command(inv, c.clock())
    page = await c.releases.builds_page(actor, inv.args[0], page=1, per_page=blocks.BUILDS_PER_PAGE)
    await respond(
        text=f"{page.total} known builds of {esc(page.project.name)}",
        blocks=page_blocks(page),
        response_type="ephemeral",
    )


def page_blocks(page: BuildsPage) -> list[Block]:
    """A page of ``/build builds``, the live and previous live build marked."""
    assert page.view is not None
    return releases.builds_page(
        page.project.name,
        page.project.id,
        page.view.builds,
        live=page.view.live.current,
        page=page.page,
        total=page.total,
        per_page=blocks.BUILDS_PER_PAGE,
    )


SUBCOMMANDS = (
    Subcommand("projects", "projects", "projects with live and queued users", projects, 0, 0),
    Subcommand("users", "users <project>", "live and queued users", users, 1, 1),
    Subcommand(
        "upload",
        f"upload <project> <zip-url> [{NO_AUTO_RELEASE}]",
        "send a build (.zip URL) to Streampixel; alone, opens a form",
        upload,
        0,
        3,
    ),
    Subcommand(
        "distribute",
        "distribute <project> <uploadId> [at HH:MM | at <ISO 8601> | in <duration>]",
        "release an approved build, now or at a time (asks to confirm)",
        distribute,
        2,
        6,
    ),
    Subcommand(
        "rollback",
        "rollback <project> [uploadId [at … | in …]]",
        "re-distribute an older build (offers the last good one first; asks to confirm)",
        rollback,
        1,
        6,
    ),
    Subcommand("builds", "builds <project>", "known builds and their last status", builds, 1, 1),
)


# -- buttons -------------------------------------------------------------------------


async def distribute_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Distribute button."""
    await run_clicked("distribute", body, c, respond)


async def rollback_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Rollback button."""
    await run_clicked("rollback", body, c, respond)


async def run_clicked(
    action: str, body: dict[str, Any], c: Container, respond: AsyncRespond
) -> None:
    """Distribute or roll back through :meth:`Releases.release`, then answer in place."""
    actor = actor_of_click(body, c.clock())
    value = parse_value(clicked_value(body), "project_id", "upload_id")
    project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
    result = await c.releases.release(actor, action, project_id, upload_id, button=button_of(body))
    if isinstance(result, AlreadyUsed):
        await respond(text=already_used_text(result), response_type="ephemeral",
                      replace_original=False)  # fmt: skip
    elif isinstance(result, SlotBusy):
        await respond(
            text=f"Streampixel's next distribute slot opens at {blocks.hhmm(result.next_at)}",
            blocks=blocks.slot_busy(action, project_id, upload_id, result.next_at),
            replace_original=True,
        )
    elif isinstance(result, ApprovalRequested):
        text, _ = approval_blocks.requested_note(result.request)
        action_id = ids.BUILD_ROLLBACK if action == "rollback" else ids.BUILD_DISTRIBUTE
        spent = spend_button(message_blocks(body), action_id, text)
        await respond(text=text, blocks=spent, replace_original=True)
    elif isinstance(result, QueuedNotice):
        await respond(
            text=f"Queued for {blocks.hhmm(result.run_at)}",
            blocks=blocks.queued_notice(
                action, project_id, upload_id, actor_id=result.actor_id, run_at=result.run_at
            ),
            replace_original=True,
        )
    elif result.on_notification:
        # The build's message is re-rendered with the decision stamp through the outbox.
        await respond(text=done_text(result), response_type="ephemeral", replace_original=False)
    else:
        await respond(text=done_text(result), blocks=done_blocks(result), replace_original=True)


def already_used_text(used: AlreadyUsed) -> str:
    """The answer to a click on a spent release button."""
    claim = used.claim
    if claim is None:
        return "This button was already used."
    return blocks.already_done(used.action, claim.actor_id, claim.claimed_at, claim.outcome)


def done_text(done: Released) -> str:
    """The fallback text of a finished distribution."""
    project = esc(done.project_name or done.project_id)
    return (
        f"{mention(done.actor_id)} {blocks.DONE_VERBS[done.action]} build "
        f"{esc(done.upload_id)} of {project}"
    )


def done_blocks(done: Released) -> list[Block]:
    """The message a finished distribution replaces its button message with."""
    return blocks.run_done(
        done.action,
        done.project_id,
        done.upload_id,
        actor_id=done.actor_id,
        at=done.at,
        message=done.message,
        project_name=done.project_name,
    )


async def queue_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The "Queue for HH:MM" button offered when the slot is busy."""
    actor = actor_of_click(body, c.clock())
    value = parse_value(clicked_value(body), "action", "project_id", "upload_id")
    action = str(value["action"])
    if action not in blocks.VERBS:
        raise InvalidInput("this button's value could not be read")
    project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
    queued = await c.releases.queue(actor, action, project_id, upload_id, button=button_of(body))
    if isinstance(queued, AlreadyUsed):
        who = f"<@{queued.claim.actor_id}>" if queued.claim else "someone"
        text = f"{who} already queued this."
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    await respond(
        text=f"Queued for {blocks.hhmm(queued.run_at)}",
        blocks=blocks.queued_notice(
            action, project_id, upload_id, actor_id=queued.actor_id, run_at=queued.run_at
        ),
        replace_original=True,
    )


async def page_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The paging buttons of ``/build builds``."""
    value = parse_value(clicked_value(body), "project_id", "page")
    page_number = max(1, int(value["page"]))
    actor = actor_of_click(body, c.clock())
    page = await c.releases.builds_page(
        actor, str(value["project_id"]), page=page_number, per_page=blocks.BUILDS_PER_PAGE
    )
    await respond(
        text=f"{page.total} known builds of {esc(page.project.name)}",
        blocks=page_blocks(page),
        replace_original=True,
    )


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add the ``/build`` subcommands and the build buttons."""
    routers.build.add(*SUBCOMMANDS)
    for action_id, work in (
        (ids.BUILD_DISTRIBUTE, distribute_clicked),
        (ids.BUILD_ROLLBACK, rollback_clicked),
        (ids.BUILD_QUEUE_DISTRIBUTE, queue_clicked),
        (re.compile(f"^{ids.BUILD_PAGE}(_prev|_next)?$"), page_clicked),
    ):
        app.action(action_id)(click_listener(work, container))
