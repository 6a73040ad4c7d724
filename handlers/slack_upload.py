"""Upload a video shared in Slack to StreamStack: a message shortcut, a DM offer, a title modal.

- The *Upload to StreamStack* message shortcut (``message_action``) acks at once,
  then opens the title modal for the message's first video, or explains
  (ephemerally, through ``response_url``) why it cannot.
- A video sent to the bot in a DM (``message`` event, ``im`` channel) is answered
  with an *Upload to StreamStack* button that opens the same modal.
- The modal's submission checks the title inline (``response_action: errors``),
  acks, posts a progress reply in the message's thread and runs
  :meth:`~bot.services.media_transfer.MediaTransfer.upload_from_slack` after the
  ack — as the listener's own post-ack work, which the app's
  :class:`~bot.ack_runner.PostAckRunner` bounds — editing the reply as bytes move.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.container import Container
from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.services.actor import Actor
from bot.services.media import check_title
from bot.slack_files import SlackFile, files_of, first_video
from handlers.blocks import slack_upload as render
from handlers.blocks.upload_modals import (
    TITLE,
    errors,
    slack_file_modal,
    view_metadata,
    view_values,
)
from handlers.ids import (
    MEDIA_SLACK_UPLOAD_OFFER,
    MEDIA_SLACK_UPLOAD_SHORTCUT,
    MEDIA_SLACK_UPLOAD_VIEW,
)
from handlers.requests import actor_of_click, click_listener, clicked_value
from handlers.router import provider_error_text

log = logging.getLogger("streamops.slack_upload")


async def open_title_modal(
    c: Container, trigger_id: str, file: SlackFile, channel: str, thread_ts: str | None
) -> None:
    """Open the title modal for ``file``; progress will go to ``thread_ts`` in ``channel``."""
    view = slack_file_modal(
        file.id, file.label, channel, thread_ts, details=render.file_details(file)
    )
    await c.slack.views_open(trigger_id=trigger_id, view=view)


async def shortcut_used(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The message shortcut: the title modal for the message's video, or why not."""
    message = body.get("message") or {}
    file = first_video(message)
    await c.transfer.may_upload(actor_of_click(body, c.clock()))
    channel = str((body.get("channel") or {}).get("id") or "")
    thread = str(message.get("thread_ts") or message.get("ts") or body.get("message_ts") or "")
    await open_title_modal(c, str(body.get("trigger_id") or ""), file, channel, thread or None)


async def offer_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The DM's *Upload to StreamStack* button: the same title modal."""
    try:
        value = json.loads(clicked_value(body))
        file = SlackFile.model_validate(value["file"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("this button carries no file; send the video again") from None
    await c.transfer.may_upload(actor_of_click(body, c.clock()))
    channel = str((body.get("channel") or {}).get("id") or "")
    thread = str(value.get("ts") or "") or None
    await open_title_modal(c, str(body.get("trigger_id") or ""), file, channel, thread)


def modal_actor(body: dict[str, Any], c: Container, channel: str) -> Actor:
    """The actor behind a modal submission (the channel comes from the modal's metadata)."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Actor(
        user_id=str(user.get("id") or ""),
        source="modal",
        requested_at=c.clock(),
        user_name=str(user.get("username") or user.get("name") or ""),
        team_id=str(team.get("id") or user.get("team_id") or ""),
        channel_id=channel,
        correlation_id=uuid.uuid4().hex,
    )


class ThreadReply:
    """The progress reply in the file's thread: posted once, then edited in place."""

    def __init__(self, c: Container, channel: str, thread_ts: str | None) -> None:
        self.c = c
        self.channel = channel
        self.thread_ts = thread_ts
        self.ts = ""

    async def post(self, text: str) -> None:
        """Post the reply (in the thread when there is one)."""
        posted = await self.c.slack.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, text=text
        )
        self.channel = str(posted.get("channel") or self.channel)
        self.ts = str(posted.get("ts") or "")

    async def edit(self, text: str) -> None:
        """Replace the reply's text (a failed edit is logged, never fatal to the upload)."""
        try:
            await self.c.slack.chat_update(channel=self.channel, ts=self.ts, text=text)
        except SlackApiError as exc:
            log.warning("could not update the upload progress: %s", exc.response.get("error"))


async def title_submitted(ack: AsyncAck, body: dict[str, Any], c: Container) -> None:
    """The title modal's submission: check, ack, then move the file after the ack."""
    meta = view_metadata(body)
    try:
        file = SlackFile.model_validate(meta.get("details") or {})
    except ValueError:
        await ack(**errors(**{TITLE: "This form lost track of its file; start again."}))
        return
    title_words = str(view_values(body).get(TITLE) or "").split()
    if not title_words:
        await ack(**errors(**{TITLE: "A video needs a title."}))
        return
    try:
        title = check_title(title_words, file.label)
    except InvalidInput as exc:
        await ack(**errors(**{TITLE: str(exc)}))
        return
    await ack()
    channel = str(meta.get("channel") or "")
    thread_ts = str(meta.get("thread_ts") or "") or None
    actor = modal_actor(body, c, channel)
    reply = ThreadReply(c, channel, thread_ts)
    try:
        await reply.post(render.progress_text(actor.user_id, file, 0, file.size))
    except SlackApiError as exc:  # e.g. not in that channel: tell the user in a DM instead
        log.info("upload progress goes to a DM: %s", exc.response.get("error"))
        reply = ThreadReply(c, actor.user_id, None)
        await reply.post(render.progress_text(actor.user_id, file, 0, file.size))

    async def progress(sent: int, total: int | None) -> None:
        await reply.edit(render.progress_text(actor.user_id, file, sent, total))

    await reply.edit(await _transfer(c, actor, file, title, progress))


async def _transfer(c: Container, actor: Actor, file: SlackFile, title: str, progress: Any) -> str:
    """Run the transfer; its outcome in words (never a stack trace)."""
    try:
        done = await c.transfer.upload_from_slack(actor, file, title, progress)
    except UserFacingError as exc:
        return render.failed_text(file, str(exc))
    except ProviderError as exc:
        return render.failed_text(file, provider_error_text(exc))
    except Exception:
        ref = actor.correlation_id[:8]
        log.exception("upload from Slack failed (ref %s)", ref)
        return render.failed_text(file, f"something went wrong on our side (ref `{ref}`)")
    return render.done_text(actor.user_id, done.title, done.uuid, done.size)


def is_dm_with_files(event: dict[str, Any]) -> bool:
    """A person's message with files in a DM with the bot (not the bot's own, not an edit)."""
    return (
        event.get("channel_type") == "im"
        and bool(event.get("files"))
        and not event.get("bot_id")
        and event.get("subtype") in (None, "file_share")
    )


async def dm_received(event: dict[str, Any], c: Container) -> None:
    """Files sent to the bot in a DM: offer the first video for upload, or say none is one."""
    if not is_dm_with_files(event):
        return
    channel = str(event.get("channel") or "")
    try:
        file = first_video(event)
    except UserFacingError:
        names = [f.label for f in files_of(event)]
        await c.slack.chat_postMessage(channel=channel, text=render.dm_not_video(names))
        return
    text, blocks = render.dm_offer(file, str(event.get("ts") or ""))
    await c.slack.chat_postMessage(channel=channel, text=text, blocks=blocks)


def register(app: AsyncApp, c: Container) -> None:
    """Add the message shortcut, the DM offer and its button, and the title modal."""
    app.shortcut(MEDIA_SLACK_UPLOAD_SHORTCUT)(click_listener(shortcut_used, c))
    app.action(MEDIA_SLACK_UPLOAD_OFFER)(click_listener(offer_clicked, c))

    async def submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        await title_submitted(ack, body, c)

    app.view(MEDIA_SLACK_UPLOAD_VIEW)(submitted)

    async def direct_message(event: dict[str, Any]) -> None:
        try:
            await dm_received(event, c)
        except SlackApiError as exc:
            log.warning("could not answer a DM with files: %s", exc.response.get("error"))

    app.event("message")(direct_message)
