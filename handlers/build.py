"""``/build``: Streampixel projects, users, upload, distribute, rollback, builds; its buttons.

Thin listeners: parse, authorize (every command and every click, on the
server), call :class:`bot.services.builds.BuildService`, render with
:mod:`handlers.blocks.builds`, answer, audit. Distribute and rollback only run
from a button whose ``confirm`` dialog names the build; a button runs once
(``deps.claims``) and its message is then replaced by who did what and when.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, Outcome, Source
from bot.deps import Deps
from bot.errors import InvalidInput, NotAuthorized, ProviderError
from bot.services.builds import SlotBusy
from handlers import ids
from handlers.blocks import builds as blocks
from handlers.build_queue import QueueScheduler, build_service
from handlers.router import Invocation, run_safely

if TYPE_CHECKING:
    from handlers import Routers

NO_AUTO_RELEASE = "--no-auto-release"


@dataclass(frozen=True)
class Actor:
    """Who asked, from where, and when: what every audit row of a request shares."""

    user_id: str
    user_name: str
    team_id: str
    channel_id: str
    source: Source
    requested_at: datetime
    correlation_id: str

    @classmethod
    def of_command(cls, inv: Invocation, now: datetime) -> Actor:
        """The actor of a slash command."""
        return cls(
            inv.user_id,
            inv.user_name,
            inv.team_id,
            inv.channel_id,
            "slash_command",
            now,
            inv.correlation_id,
        )

    @classmethod
    def of_click(cls, body: dict[str, Any], now: datetime) -> Actor:
        """The actor of a ``block_actions`` click."""
        user = body.get("user") or {}
        return cls(
            str(user.get("id", "")),
            str(user.get("username") or user.get("name") or ""),
            str((body.get("team") or {}).get("id", "")),
            str((body.get("channel") or {}).get("id", "")),
            "button",
            now,
            uuid.uuid4().hex,
        )


async def audit(
    deps: Deps,
    actor: Actor,
    action: str,
    outcome: Outcome,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    params: dict[str, object] | None = None,
    message: str = "",
) -> None:
    """Hand one Streampixel action (done, refused or failed) to the audit log."""
    await deps.audit.record(
        AuditEvent(
            action=action,
            outcome=outcome,
            actor_id=actor.user_id,
            source=actor.source,
            requested_at=actor.requested_at,
            completed_at=deps.clock(),
            actor_name=actor.user_name,
            team_id=actor.team_id,
            channel_id=actor.channel_id,
            provider="streampixel",
            target_type=target_type,
            target_id=target_id,
            params=params or {},
            message=message,
            correlation_id=actor.correlation_id,
        )
    )


async def authorize(deps: Deps, actor: Actor, permission: str, action: str, **target: Any) -> None:
    """Raise :class:`NotAuthorized` (after auditing the refusal) unless ``actor`` may act."""
    try:
        await deps.authz.require(actor.user_id, permission)
    except NotAuthorized as exc:
        await audit(deps, actor, action, "denied", message=str(exc), **target)
        raise


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
        actor = Actor.of_command(inv, deps.clock())
        await authorize(deps, actor, "build.upload", "upload", target_type="project")
        service = build_service(deps)
        project = await service.resolve_project(inv.args[0])
        params: dict[str, object] = {"file_url": file_url, "auto_release": auto_release}
        target: dict[str, Any] = {
            "target_type": "project",
            "target_id": project.id,
            "params": params,
        }
        try:
            result = await service.upload(
                project, file_url, auto_release=auto_release, requested_by=inv.user_id
            )
        except ProviderError as exc:
            await audit(deps, actor, "upload", "failed", message=exc.message, **target)
            raise
        if isinstance(result, SlotBusy):
            text = (
                "Streampixel allows one upload per 2 minutes per account; the next slot opens "
                f"at {blocks.when(result.next_at)}. Nothing was sent."
            )
            await audit(deps, actor, "upload", "denied", message=text, **target)
            await respond(text=f":hourglass: {text}", response_type="ephemeral")
            return
        await audit(deps, actor, "upload", "ok", message=result.upload_id, **target)
        await respond(
            text=f"Build {result.upload_id} queued for processing",
            blocks=blocks.upload_accepted(
                project, result, file_url=file_url, auto_release=auto_release, actor_id=inv.user_id
            ),
            response_type="in_channel",
        )

    @build.sub(
        "distribute",
        "distribute <project> <uploadId>",
        "release an approved build (asks to confirm)",
        min_args=2,
        max_args=2,
    )
    async def distribute(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        actor = Actor.of_command(inv, deps.clock())
        await authorize(deps, actor, "build.distribute", "distribute", target_type="upload")
        project = await build_service(deps).resolve_project(inv.args[0])
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
        actor = Actor.of_command(inv, deps.clock())
        await authorize(deps, actor, "build.rollback", "rollback", target_type="upload")
        service = build_service(deps)
        project = await service.resolve_project(inv.args[0])
        if len(inv.args) == 2:
            offer = blocks.run_offer("rollback", project, inv.args[1])
        else:
            known, _total = await service.known_builds(
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
        actor = Actor.of_click(body, deps.clock())
        value = parse_value(body["actions"][0].get("value", ""), "project_id", "upload_id")
        project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
        target: dict[str, Any] = {
            "target_type": "upload",
            "target_id": upload_id,
            "params": {"project_id": project_id},
        }
        await authorize(deps, actor, f"build.{action}", action, **target)
        service = build_service(deps)
        message_ts = str((body.get("container") or {}).get("message_ts", ""))
        key = f"{action}:{project_id}:{upload_id}:{actor.channel_id}:{message_ts}"
        if not await deps.claims.claim(key, actor.user_id):
            claim = await deps.claims.get(key)
            text = "This button was already used."
            if claim is not None:
                text = blocks.already_done(action, claim.actor_id, claim.claimed_at, claim.outcome)
            await audit(deps, actor, action, "denied", message=text, **target)
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        try:
            result = await service.distribute(project_id, upload_id)
        except BaseException as exc:
            # Nothing was distributed: free the button so it can be tried again.
            await deps.claims.release(key)
            if isinstance(exc, ProviderError):
                await audit(deps, actor, action, "failed", message=exc.message, **target)
            raise
        if isinstance(result, SlotBusy):
            await deps.claims.release(key)
            text = f"distribute slot in use until {blocks.hhmm(result.next_at)}"
            await audit(deps, actor, action, "denied", message=text, **target)
            await respond(
                text=f"Streampixel's next distribute slot opens at {blocks.hhmm(result.next_at)}",
                blocks=blocks.slot_busy(action, project_id, upload_id, result.next_at),
                replace_original=True,
            )
            return
        await deps.claims.finish(key, "ok", result.message)
        await audit(deps, actor, action, "ok", message=result.message, **target)
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
        actor = Actor.of_click(body, deps.clock())
        value = parse_value(
            body["actions"][0].get("value", ""), "action", "project_id", "upload_id"
        )
        action = str(value["action"])
        if action not in blocks.VERBS:
            raise InvalidInput("this button's value could not be read")
        project_id, upload_id = str(value["project_id"]), str(value["upload_id"])
        target: dict[str, Any] = {
            "target_type": "upload",
            "target_id": upload_id,
            "params": {"project_id": project_id, "action": action},
        }
        await authorize(deps, actor, "build.queue", "queue", **target)
        await authorize(deps, actor, f"build.{action}", "queue", **target)
        service = build_service(deps)
        message_ts = str((body.get("container") or {}).get("message_ts", ""))
        key = f"queue:{action}:{project_id}:{upload_id}:{actor.channel_id}:{message_ts}"
        if not await deps.claims.claim(key, actor.user_id):
            claim = await deps.claims.get(key)
            who = f"<@{claim.actor_id}>" if claim else "someone"
            text = f"{who} already queued this."
            await audit(deps, actor, "queue", "denied", message=text, **target)
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
        await audit(deps, actor, "queue", "ok", message=f"run at {queued.run_at:%H:%M}", **target)
        await respond(
            text=f"Queued for {blocks.hhmm(queued.run_at)}",
            blocks=blocks.queued_notice(
                action, project_id, upload_id, actor_id=actor.user_id, run_at=queued.run_at
            ),
            replace_original=True,
        )
        scheduler.wake()

    async def page_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        value = parse_value(body["actions"][0].get("value", ""), "project_id", "page")
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

    def listener(action: str) -> Any:
        async def on_click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            await run_safely(run_clicked(action, body, respond), respond)

        return on_click

    app.action(ids.BUILD_DISTRIBUTE)(listener("distribute"))
    app.action(ids.BUILD_ROLLBACK)(listener("rollback"))

    @app.action(ids.BUILD_QUEUE_DISTRIBUTE)
    async def on_queue(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await run_safely(queue_clicked(body, respond), respond)

    @app.action(ids.BUILD_PAGE)
    async def on_page(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await run_safely(page_clicked(body, respond), respond)
