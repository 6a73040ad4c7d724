"""``/build policy``, the Approve and Reject buttons of approval requests, and the reject modal.

Thin listeners over :class:`bot.services.governance_actions.GovernanceActions`:
parse the payload, call the service (which authorizes, votes, runs and
audits), render with :mod:`handlers.blocks.approvals`, answer. The request
message itself is updated in place through the outbox on every change, so a
click is answered only to the person who clicked.
"""

from __future__ import annotations

from typing import Any, cast

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput, UserFacingError
from bot.services.actor import Actor
from bot.services.builds import SlotBusy
from bot.services.governance import VoteRecorded
from bot.services.governance_actions import ApprovedRun
from bot.services.releases import QueuedNotice, Released
from handlers import ids
from handlers.blocks import approvals as render
from handlers.blocks import builds as build_blocks
from handlers.modals import input_error, metadata, open_modal, submitted_text, text_modal
from handlers.requests import actor_of_click, actor_of_command, clicked_value
from handlers.router import Invocation, Routers, Subcommand, run_safely

POLICY_USAGE = "policy <project> [approvals=<0|1|2|3>] [approvers=releaser|admin]"


def request_id_of(raw: str) -> int:
    """The request id a button or modal carries (a forged value is refused)."""
    if not raw.isdigit():
        raise InvalidInput("this button's value could not be read")
    return int(raw)


async def policy(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/build policy <project> [approvals=N] [approvers=role]``: show or set (admins)."""
    actor = actor_of_command(inv, c.clock())
    project, shown = await c.governance_actions.policy(actor, inv.args[0], inv.args[1:])
    text = render.policy_text(project.name, shown)
    changed = bool(inv.args[1:])
    if changed:
        text = f":lock: <@{actor.user_id}> changed the approval policy. {text}"
    await respond(text=text, response_type="in_channel" if changed else "ephemeral")


SUBCOMMANDS = (
    Subcommand(
        "policy",
        POLICY_USAGE,
        "approvals a distribute or rollback needs (admins set it)",
        policy,
        1,
        3,
    ),
)


def run_outcome_text(run: ApprovedRun) -> str:
    """What the approval that completed a request made happen, for its giver."""
    request = run.request
    head = f":white_check_mark: Your approval completed request #{request.id}."
    result = run.result
    if run.error is not None:
        return f"{head} The release did not run: {run.error}"
    if isinstance(result, Released):
        verb = build_blocks.DONE_VERBS[result.action]
        return (
            f"{head} <@{request.requested_by}> {verb} build `{result.upload_id}`: {result.message}"
        )
    if isinstance(result, QueuedNotice):
        return (
            f"{head} Streampixel's distribute slot is in use: the release is queued for "
            f"{build_blocks.hhmm(result.run_at)} and will run then."
        )
    if isinstance(result, SlotBusy):
        return f"{head} The slot is busy until {build_blocks.hhmm(result.next_at)}."
    return f"{head} The release was handed on."


async def approve_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Approve button: count the vote; the vote that completes the count runs it."""
    actor = actor_of_click(body, c.clock())
    outcome = await c.governance_actions.approve(actor, request_id_of(clicked_value(body)))
    text = (
        render.vote_counted(outcome.request)
        if isinstance(outcome, VoteRecorded)
        else run_outcome_text(outcome)
    )
    await respond(text=text, response_type="ephemeral", replace_original=False)


def modal_actor(body: dict[str, Any], c: Container, channel_id: str) -> Actor:
    """The actor behind a modal submission (the channel comes from the modal's metadata)."""
    user = body.get("user") or {}
    clicked = actor_of_click(body, c.clock())
    return Actor(
        user_id=str(user.get("id", "")),
        source="modal",
        requested_at=c.clock(),
        user_name=clicked.user_name,
        team_id=clicked.team_id,
        channel_id=channel_id,
        correlation_id=clicked.correlation_id,
    )


async def tell(client: AsyncWebClient, channel: str, user: str, text: str) -> None:
    """A note only ``user`` sees: ephemeral in ``channel``, or a direct message without one.

    Modal submissions have no response_url; a click on the App Home has no channel.
    """
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        await client.chat_postMessage(channel=user, text=text)


def reply_to(body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> AsyncRespond:
    """``respond``, or for a click without a response_url (the App Home) a direct message."""
    if body.get("response_url"):
        return respond
    user = str((body.get("user") or {}).get("id", ""))

    async def direct(text: str = "", **_: Any) -> None:
        await client.chat_postMessage(channel=user, text=text)

    return cast(AsyncRespond, direct)


def register(app: AsyncApp, c: Container, routers: Routers) -> None:
    """Add ``/build policy``, the Approve/Reject buttons and the reject modal."""
    routers.build.add(*SUBCOMMANDS)

    async def approve_listener(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        answer = reply_to(body, client, respond)
        await run_safely(approve_clicked(body, c, answer), answer)

    app.action(ids.APPROVAL_APPROVE)(approve_listener)

    async def reject_clicked(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()

        async def work() -> None:
            actor = actor_of_click(body, c.clock())
            request = await c.governance.may_reject(actor, request_id_of(clicked_value(body)))
            intro = f"Reject request #{request.id}: " + render.what(
                request.action, request.project_name, request.upload_id
            )
            view = text_modal(
                ids.VIEW_APPROVAL_REJECT,
                title="Reject release",
                intro=f"{intro}?\nThe requester and the channel will see your reason.",
                label="Reason",
                submit="Reject",
                private_metadata={"request_id": request.id, "channel_id": actor.channel_id},
                placeholder="e.g. the build crashes on load",
            )
            await open_modal(client, body, view)

        await run_safely(work(), reply_to(body, client, respond))

    async def reject_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        reason = submitted_text(body)
        if not reason:
            await ack(**input_error("a rejection needs a reason"))
            return
        await ack()
        meta = metadata(body)
        channel = str(meta.get("channel_id") or "")
        actor = modal_actor(body, c, channel)
        try:
            await c.governance_actions.reject(
                actor, request_id_of(str(meta.get("request_id", ""))), reason
            )
        except UserFacingError as exc:
            if channel:
                await tell(client, channel, actor.user_id, f":warning: {exc}")

    app.action(ids.APPROVAL_REJECT)(reject_clicked)
    app.view(ids.VIEW_APPROVAL_REJECT)(reject_submitted)
