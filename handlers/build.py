"""``/build``: Streampixel projects, users, upload, distribute, rollback, builds; its buttons.

Thin listeners: parse, authorize (every command and every click, on the
server), call :class:`bot.services.builds.BuildService`, render with
:mod:`handlers.blocks.builds`, answer, audit. Distribute and rollback only run
from a button whose ``confirm`` dialog names the build; a button runs once
(``deps.claims``) and its message is then replaced by who did what and when.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import InvalidInput, ProviderError
from bot.providers.streampixel import PROVIDER, Project
from bot.services.actor import Target, authorize
from bot.services.builds import SlotBusy
from handlers import ids
from handlers.blocks import builds as blocks
from handlers.blocks.parts import slack_date
from handlers.build_queue import QueueScheduler, build_service
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    audit_trail,
    click_listener,
    clicked_value,
    message_ts,
)
from handlers.router import Invocation

if TYPE_CHECKING:
    from handlers import Routers

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


def register(app: AsyncApp, deps: Deps, routers: Routers) -> None:
    """Add the ``/build`` subcommands, the build buttons and the queue scheduler."""
    scheduler = QueueScheduler(deps)
    deps.background.append(scheduler.run)
    build = routers.build

    @build.sub("projects", "projects", "projects with live and queued users", max_args=0)
    async def projects(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        lines = await build_service(deps).overview()
        await respond(
            text=f"{len(lines)} Streampixel projects",
            blocks=blocks.projects_overview(lines),
            response_type="ephemeral",
        )

    @build.sub("users", "users <project>", "live and queued users", min_args=1, max_args=1)
    async def users(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        project, stats = await build_service(deps).users(inv.args[0])
        await respond(
            text=f"{project.name}: {stats.live_users} live, {stats.queued_users} queued",
            blocks=blocks.user_stats(project, stats),
            response_type="ephemeral",
        )

    @build.sub(
        "upload",
        f"upload <project> <zip-url> [{NO_AUTO_RELEASE}]",
        "send a build (.zip URL) to Streampixel",
        min_args=2,
        max_args=3,
    )
    async def upload(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        flags = inv.args[2:]
        if flags and flags[0].lower() != NO_AUTO_RELEASE:
            raise InvalidInput(f"unknown option `{flags[0]}`; the only option is {NO_AUTO_RELEASE}")
        auto_release = not flags
        file_url = bare_url(inv.args[1])
        trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
        await authorize(deps.authz, trail, "build.upload", "upload", Target(PROVIDER, "project"))
        service = build_service(deps)
        project = await service.resolve_project(inv.args[0])
        params = {"file_url": file_url, "auto_release": auto_release}
        target = Target(PROVIDER, "project", project.id, params)
        try:
            result = await service.upload(
                project, file_url, auto_release=auto_release, requested_by=inv.user_id
            )
        except ProviderError as exc:
            await trail.record("upload", "failed", target, exc.message)
            raise
        if isinstance(result, SlotBusy):
            text = (
                "Streampixel allows one upload per 2 minutes per account; the next slot opens "
                f"at {slack_date(result.next_at)}. Nothing was sent."
            )
            await trail.record("upload", "denied", target, text)
            await respond(text=f":hourglass: {text}", response_type="ephemeral")
            return
        await trail.record("upload", "ok", target, result.upload_id)
        await respond(
            text=f"Build {result.upload_id} queued for processing",
            blocks=blocks.upload_accepted(
                project, result, file_url=file_url, auto_release=auto_release, actor_id=inv.user_id
            ),
            response_type="in_channel",
        )

    async def offer_allowed(inv: Invocation, action: str) -> Project:
        """The project of a distribute/rollback offer, once the actor may run ``action``."""
        trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
        await authorize(deps.authz, trail, f"build.{action}", action, Target(PROVIDER, "upload"))
        return await build_service(deps).resolve_project(inv.args[0])

    @build.sub(
        "distribute",
        "distribute <project> <uploadId>",
        "release an approved build (asks to confirm)",
        min_args=2,
        max_args=2,
    )
    async def distribute(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        project = await offer_allowed(inv, "distribute")
        await respond(
            text=f"Distribute build {inv.args[1]} of {project.name}?",
            blocks=blocks.run_offer("distribute", project, inv.args[1]),
            response_type="in_channel",
        )

    @build.sub(
        "rollback",
        "rollback <project> [uploadId]",
        "re-distribute an older build (offers the known ones; asks to confirm)",
        min_args=1,
        max_args=2,
    )
    async def rollback(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        project = await offer_allowed(inv, "rollback")
        if len(inv.args) == 2:
            offer = blocks.run_offer("rollback", project, inv.args[1])
        else:
            known, _total = await build_service(deps).known_builds(
                project.id, page=1, per_page=blocks.ROLLBACK_CHOICES
            )
            offer = blocks.rollback_choices(project, known)
        await respond(text=f"Roll back {project.name}", blocks=offer, response_type="in_channel")

    @build.sub(
        "builds", "builds <project>", "known builds and their last status", min_args=1, max_args=1
    )
    async def builds(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        service = build_service(deps)
        project = await service.resolve_project(inv.args[0])
        known, total = await service.known_builds(
            project.id, page=1, per_page=blocks.BUILDS_PER_PAGE
        )
        await respond(
            text=f"{total} known builds of {project.name}",
            blocks=blocks.builds_page(project, known, page=1, total=total),
            response_type="ephemeral",
        )

    async def run_clicked(action: str, body: dict[str, Any], respond: AsyncRespond) -> None:
        actor = actor_of_click(body, deps.clock())
        trail = audit_trail(deps, actor)
        value = parse_value(clicked_value(body), "project_id", "upload_id")
        project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
        target = Target(PROVIDER, "upload", upload_id, {"project_id": project_id})
        await authorize(deps.authz, trail, f"build.{action}", action, target)
        service = build_service(deps)
        key = f"{action}:{project_id}:{upload_id}:{actor.channel_id}:{message_ts(body)}"
        if not await deps.claims.claim(key, actor.user_id):
            claim = await deps.claims.get(key)
            text = "This button was already used."
            if claim is not None:
                text = blocks.already_done(action, claim.actor_id, claim.claimed_at, claim.outcome)
            await trail.record(action, "denied", target, text)
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        try:
            result = await service.distribute(project_id, upload_id)
        except BaseException as exc:
            # Nothing was distributed: free the button so it can be tried again.
            await deps.claims.release(key)
            if isinstance(exc, ProviderError):
                await trail.record(action, "failed", target, exc.message)
            raise
        if isinstance(result, SlotBusy):
            await deps.claims.release(key)
            text = f"distribute slot in use until {blocks.hhmm(result.next_at)}"
            await trail.record(action, "denied", target, text)
            await respond(
                text=f"Streampixel's next distribute slot opens at {blocks.hhmm(result.next_at)}",
                blocks=blocks.slot_busy(action, project_id, upload_id, result.next_at),
                replace_original=True,
            )
            return
        await deps.claims.finish(key, "ok", result.message)
        await trail.record(action, "ok", target, result.message)
        await respond(
            text=f"<@{actor.user_id}> {blocks.DONE_VERBS[action]} build {upload_id}",
            blocks=blocks.run_done(
                action,
                project_id,
                upload_id,
                actor_id=actor.user_id,
                at=deps.clock(),
                message=result.message,
            ),
            replace_original=True,
        )

    async def queue_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        actor = actor_of_click(body, deps.clock())
        trail = audit_trail(deps, actor)
        value = parse_value(clicked_value(body), "action", "project_id", "upload_id")
        action = str(value["action"])
        if action not in blocks.VERBS:
            raise InvalidInput("this button's value could not be read")
        project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
        target = Target(PROVIDER, "upload", upload_id, {"project_id": project_id, "action": action})
        await authorize(deps.authz, trail, "build.queue", "queue", target)
        await authorize(deps.authz, trail, f"build.{action}", "queue", target)
        service = build_service(deps)
        key = f"queue:{action}:{project_id}:{upload_id}:{actor.channel_id}:{message_ts(body)}"
        if not await deps.claims.claim(key, actor.user_id):
            claim = await deps.claims.get(key)
            who = f"<@{claim.actor_id}>" if claim else "someone"
            text = f"{who} already queued this."
            await trail.record("queue", "denied", target, text)
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        queued = await service.queue(
            project_id,
            upload_id,
            action=action,
            requested_by=actor.user_id,
            channel_id=actor.channel_id,
        )
        await deps.claims.finish(key, "ok", f"queued #{queued.id}")
        await trail.record("queue", "ok", target, f"run at {queued.run_at:%H:%M}")
        await respond(
            text=f"Queued for {blocks.hhmm(queued.run_at)}",
            blocks=blocks.queued_notice(
                action, project_id, upload_id, actor_id=actor.user_id, run_at=queued.run_at
            ),
            replace_original=True,
        )
        scheduler.wake()

    async def page_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        value = parse_value(clicked_value(body), "project_id", "page")
        page = max(1, int(value["page"]))
        service = build_service(deps)
        project = await service.resolve_project(str(value["project_id"]))
        known, total = await service.known_builds(
            project.id, page=page, per_page=blocks.BUILDS_PER_PAGE
        )
        await respond(
            text=f"{total} known builds of {project.name}",
            blocks=blocks.builds_page(project, known, page=page, total=total),
            replace_original=True,
        )

    async def distribute_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        await run_clicked("distribute", body, respond)

    async def rollback_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        await run_clicked("rollback", body, respond)

    for action_id, work in (
        (ids.BUILD_DISTRIBUTE, distribute_clicked),
        (ids.BUILD_ROLLBACK, rollback_clicked),
        (ids.BUILD_QUEUE_DISTRIBUTE, queue_clicked),
        (re.compile(f"^{ids.BUILD_PAGE}(_prev|_next)?$"), page_clicked),
    ):
        app.action(action_id)(click_listener(work))
