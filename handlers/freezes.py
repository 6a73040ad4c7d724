"""``/streamops freeze``, ``unfreeze`` and ``freezes``; the Override button and its modal.

Thin listeners over :class:`bot.services.governance_actions.GovernanceActions`
(which parses the window, authorizes, stores and audits). A refused action
shows admins an **Override…** button (see :func:`handlers.router.run_safely`);
it opens a modal asking for the reason, and the submission overrides the
freeze for that one action, announces it in the channel and runs it.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.services.builds import SlotBusy
from bot.services.oneshot import AlreadyUsed
from bot.services.releases import QueuedNotice, Released
from handlers import ids
from handlers.approvals import modal_actor, tell
from handlers.blocks import approvals as render
from handlers.blocks import builds as build_blocks
from handlers.build import done_blocks, done_text
from handlers.modals import input_error, metadata, open_modal, submitted_text, text_modal
from handlers.requests import actor_of_click, actor_of_command, clicked_value
from handlers.router import Invocation, Routers, Subcommand, provider_error_text, run_safely

FREEZE_USAGE = "freeze <project|all> <for 2h | until 2026-12-24T18:00Z> <reason…>"


async def freeze(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/streamops freeze <project|all> <for 2h | until ISO> <reason…>`` (admins)."""
    actor = actor_of_command(inv, c.clock())
    done = await c.governance_actions.freeze(actor, inv.args[0], inv.args[1:])
    text, blocks = render.freeze_set(done.freeze, c.clock())
    await respond(text=text, blocks=blocks, response_type="in_channel")


async def unfreeze(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/streamops unfreeze <project|all>`` (admins)."""
    actor = actor_of_command(inv, c.clock())
    done = await c.governance_actions.unfreeze(actor, inv.args[0])
    text = render.unfrozen(done.scope_name, done.lifted, actor.user_id)
    await respond(text=text, response_type="in_channel" if done.lifted else "ephemeral")


async def freezes(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/streamops freezes``: active and upcoming freezes (everyone)."""
    text, blocks = render.freezes_list(await c.governance_actions.freezes(), c.clock())
    await respond(text=text, blocks=blocks, response_type="ephemeral")


SUBCOMMANDS = (
    Subcommand("freeze", FREEZE_USAGE, "stop releases for a while (admins)", freeze, 1, None),
    Subcommand("unfreeze", "unfreeze <project|all>", "lift a freeze now (admins)", unfreeze, 1, 1),
    Subcommand("freezes", "freezes", "active and upcoming freezes", freezes, 0, 0),
)


def override_value(raw: str) -> tuple[str, str, str]:
    """``(action, project_id, subject)`` from the Override button (a forged value is refused)."""
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidInput("this button's value could not be read") from None
    keys = ("action", "project_id", "subject")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in keys):
        raise InvalidInput("this button's value could not be read")
    return str(value["action"]), str(value["project_id"]), str(value["subject"])


async def open_override(c: Container, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Override button: the reason form, once the clicker may override."""
    actor = actor_of_click(body, c.clock())
    action, project_id, subject = override_value(clicked_value(body))
    await c.governance.may_override(actor)
    what = render.what(action, project_id, subject)
    view = text_modal(
        ids.VIEW_FREEZE_OVERRIDE,
        title="Override the freeze",
        intro=(
            f"Override the freeze to {what} now. The override and your reason are "
            "audited and announced in the channel."
        ),
        label="Reason",
        submit="Override",
        private_metadata={
            "action": action,
            "project_id": project_id,
            "subject": subject,
            "channel_id": actor.channel_id,
        },
        placeholder="e.g. hotfix for the crash on load",
    )
    await open_modal(client, body, view)


async def submit_override(
    c: Container, body: dict[str, Any], client: AsyncWebClient, reason: str
) -> None:
    """The override form, submitted (and acked): run the action, tell the channel or the user."""
    meta = metadata(body)
    channel = str(meta.get("channel_id") or "")
    actor = modal_actor(body, c, channel)
    try:
        run = await c.governance_actions.override(
            actor,
            str(meta.get("action", "")),
            str(meta.get("project_id") or "") or None,
            str(meta.get("subject", "")),
            reason,
        )
    except UserFacingError as exc:
        await tell(client, channel, actor.user_id, f":warning: {exc}")
        return
    except ProviderError as exc:
        await tell(client, channel, actor.user_id, f":x: {provider_error_text(exc)}")
        return
    result = run.result
    if isinstance(result, Released):
        await client.chat_postMessage(
            channel=channel, text=done_text(result), blocks=done_blocks(result)
        )
    elif isinstance(result, QueuedNotice):
        text = f"Queued for {build_blocks.hhmm(result.run_at)} (freeze overridden)."
        await tell(client, channel, actor.user_id, text)
    elif isinstance(result, AlreadyUsed):
        await tell(client, channel, actor.user_id, "This was already done.")
    elif isinstance(result, SlotBusy):
        text = (
            f"The override is recorded, but Streampixel's distribute slot is in use until "
            f"{build_blocks.hhmm(result.next_at)}: nothing was sent. Override again then."
        )
        await tell(client, channel, actor.user_id, text)
    else:  # ApprovalRequested: the project's policy still asks for approvals
        text = "The override is recorded; the release was posted for its approvals first."
        await tell(client, channel, actor.user_id, text)


def register(app: AsyncApp, c: Container, routers: Routers) -> None:
    """Add the freeze subcommands, the Override button and its modal."""
    routers.streamops.add(*SUBCOMMANDS)

    async def override_clicked(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        await run_safely(open_override(c, body, client), respond)

    async def override_submitted(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reason = submitted_text(body)
        if not reason:
            await ack(**input_error("an override needs a written reason"))
            return
        await ack()
        await submit_override(c, body, client, reason)

    app.action(ids.FREEZE_OVERRIDE)(override_clicked)
    app.view(ids.VIEW_FREEZE_OVERRIDE)(override_submitted)
