"""Upload forms: ``/build upload`` and ``/media upload`` typed without arguments open a modal.

The command checks the role first (a viewer is refused before any form opens),
then opens the form with the command's ``trigger_id``. A submission is checked
before the ack, so mistakes show inline under their field
(``response_action: errors``); a good one runs the same service function as the
typed command, and its result is posted to the channel the command came from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import BotError, InvalidInput, ProviderError
from bot.services.actor import Actor
from bot.services.builds import SlotBusy
from bot.services.media import check_source_url, check_title, title_from_url
from handlers import ids
from handlers.blocks import builds as build_blocks
from handlers.blocks import media as media_blocks
from handlers.blocks import upload_modals as forms
from handlers.blocks.parts import esc, slack_date
from handlers.requests import actor_of_command
from handlers.router import Invocation, provider_error_text


async def open_build_form(inv: Invocation, c: Container) -> None:
    """``/build upload`` alone: the form with every Streampixel project to pick from."""
    projects = await c.releases.upload_choices(actor_of_command(inv, c.clock()))
    view = forms.build_upload_modal([(p.id, p.name) for p in projects], inv.channel_id)
    await c.slack.views_open(trigger_id=inv.trigger_id, view=view)


async def open_media_form(inv: Invocation, c: Container) -> None:
    """``/media upload`` alone: the form for a title and a video URL."""
    await c.media.may_upload(actor_of_command(inv, c.clock()))
    await c.slack.views_open(
        trigger_id=inv.trigger_id, view=forms.media_upload_modal(inv.channel_id)
    )


def form_actor(body: dict[str, Any], c: Container, channel_id: str) -> Actor:
    """Who submitted a form, and the channel its command came from."""
    user = body.get("user") or {}
    return Actor(
        user_id=str(user.get("id") or ""),
        source="modal",
        requested_at=c.clock(),
        user_name=str(user.get("username") or user.get("name") or ""),
        team_id=str((body.get("team") or {}).get("id") or ""),
        channel_id=channel_id,
        correlation_id=str((body.get("view") or {}).get("id") or ""),
    )


def http_url(text: str) -> str:
    """An http(s) URL, or :class:`InvalidInput` saying what is wrong with it."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("enter a full http(s) URL, e.g. https://example.com/build.zip")
    return text


async def _tell(client: AsyncWebClient, channel: str, user: str, text: str) -> None:
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        await client.chat_postMessage(channel=user, text=text)


def _failure(exc: BotError) -> str:
    if isinstance(exc, ProviderError):
        return f":x: {esc(provider_error_text(exc))}"
    return f":warning: {esc(str(exc))}"


def build_submitted(container: Container) -> Any:
    """The listener of the build form's submission."""

    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = forms.view_values(body)
        project = str(values.get(forms.PROJECT) or "")
        try:
            file_url = http_url(str(values.get(forms.BUILD_URL) or ""))
        except InvalidInput as exc:
            await ack(**forms.errors(**{forms.BUILD_URL: str(exc)}))
            return
        if not project or project == "-":
            await ack(**forms.errors(**{forms.PROJECT: "choose a project"}))
            return
        await ack()
        channel = str(forms.view_metadata(body).get("channel") or "")
        actor = form_actor(body, container, channel)
        auto = "auto" in (values.get(forms.AUTO_RELEASE) or [])
        try:
            result = await container.releases.upload(actor, project, file_url, auto_release=auto)
        except BotError as exc:
            await _tell(client, channel, actor.user_id, _failure(exc))
            return
        if isinstance(result, SlotBusy):
            text = (
                ":hourglass: Streampixel's upload slot for this account is in use; the next "
                f"slot opens at {slack_date(result.next_at)}. Nothing was sent."
            )
            await _tell(client, channel, actor.user_id, text)
            return
        await client.chat_postMessage(
            channel=channel or actor.user_id,
            text=f"Build {esc(result.result.upload_id)} queued for processing",
            blocks=build_blocks.upload_accepted(
                result.project,
                result.result,
                file_url=result.file_url,
                auto_release=result.auto_release,
                actor_id=result.actor_id,
            ),
        )

    return listener


def media_submitted(container: Container) -> Any:
    """The listener of the video form's submission."""

    async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = forms.view_values(body)
        raw_url = str(values.get(forms.VIDEO_URL) or "")
        title_words = str(values.get(forms.TITLE) or "").split()
        try:
            url = check_source_url(raw_url)
        except InvalidInput as exc:
            await ack(**forms.errors(**{forms.VIDEO_URL: str(exc)}))
            return
        try:
            check_title(title_words, title_from_url(url))
        except InvalidInput as exc:
            await ack(**forms.errors(**{forms.TITLE: str(exc)}))
            return
        await ack()
        channel = str(forms.view_metadata(body).get("channel") or "")
        actor = form_actor(body, container, channel)
        try:
            imported = await container.media.import_url(actor, url, title_words)
        except BotError as exc:
            await _tell(client, channel, actor.user_id, _failure(exc))
            return
        created = imported.media
        await client.chat_postMessage(
            channel=channel or actor.user_id,
            text=f"Importing {esc(created.title)} ({esc(created.uuid)})",
            blocks=media_blocks.upload_started(created, actor.user_id, imported.source),
        )

    return listener


def register(app: AsyncApp, container: Container) -> None:
    """The two forms' submissions."""
    app.view(ids.BUILD_UPLOAD_VIEW)(build_submitted(container))
    app.view(ids.MEDIA_UPLOAD_VIEW)(media_submitted(container))
