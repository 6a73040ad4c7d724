"""``/media`` and the buttons on video messages: thin listeners over :mod:`bot.services.media`.

Each listener builds the actor, calls the service (which authorizes, claims the
one-shot Delete button, calls StreamStack and audits), renders, and answers
through ``respond``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.services.media import (
    Deleted,
    DeleteFailed,
    DeleteScheduled,
    TooLate,
    check_uuid,
    parse_embed_flags,
    parse_period,
)
from bot.services.oneshot import AlreadyUsed
from handlers import upload_forms
from handlers.blocks import media as render
from handlers.blocks.parts import code, esc, section, slack_date, spend_button
from handlers.ids import (
    MEDIA_DELETE,
    MEDIA_DETAILS,
    MEDIA_PAGE,
    MEDIA_STATS_CHART,
    MEDIA_STATS_PERIOD,
    MEDIA_UNDO_DELETE,
)
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    button_of,
    click_listener,
    clicked_value,
    is_ephemeral,
    keep_out_of_logs,
    message_blocks,
    message_ts,
)
from handlers.router import Invocation, Routers, Subcommand, provider_error_text


def parse_page(text: str | None) -> int:
    """A page number from 1 (default 1)."""
    if text is None:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise InvalidInput(f"{code(text[:20])} is not a page number (1, 2, 3...)")
    return int(text)


async def list_(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media list [page]``."""
    page = await c.media.page(parse_page(inv.args[0] if inv.args else None))
    text = f"StreamStack videos, page {page.current_page} of {page.last_page}"
    await respond(text=text, blocks=render.media_list(page), response_type="ephemeral")


async def info(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media info <uuid>``."""
    found = await c.media.info(inv.args[0])
    await respond(
        text=f"{esc(found.title)} ({esc(found.status)})",
        blocks=render.media_details(found),
        response_type="ephemeral",
    )


async def stats(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media stats <uuid> [period]``."""
    uuid = check_uuid(inv.args[0])
    period = parse_period(inv.args[1] if len(inv.args) > 1 else None)
    found, numbers = await asyncio.gather(c.media.info(uuid), c.media.stats(uuid, period))
    await respond(
        text=f"{esc(found.title)}: {numbers.views} views over {period}",
        blocks=render.media_stats(numbers, found),
        response_type="ephemeral",
    )


async def delete(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media delete <uuid>``: ask first (the Delete button does it)."""
    found = await c.media.delete_prompt(actor_of_command(inv, c.clock()), inv.args[0])
    await respond(
        text=f"Delete {esc(found.title)}?",
        blocks=render.delete_prompt(found),
        response_type="ephemeral",
    )


async def upload(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media upload <url> [title]``; alone, it opens a form."""
    if not inv.args:
        await upload_forms.open_media_form(inv, c)
        return
    actor = actor_of_command(inv, c.clock())
    imported = await c.media.import_url(actor, inv.args[0], inv.args[1:])
    created = imported.media
    await respond(
        text=f"Importing {esc(created.title)} ({esc(created.uuid)})",
        blocks=render.upload_started(created, actor.user_id, imported.source),
        response_type="in_channel",
    )


async def presign(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media presign <filename> [title]``: the upload URL, only for the requester."""
    actor = actor_of_command(inv, c.clock())
    filename = inv.args[0]
    upload_target, title = await c.media.presign(actor, filename, inv.args[1:])
    keep_out_of_logs(urlsplit(upload_target.upload_url).query or upload_target.upload_url)
    await respond(
        text=f"Upload target for {esc(title)} ({esc(upload_target.uuid)}), only for you",
        blocks=render.presigned(upload_target, title, filename),
        response_type="ephemeral",
    )


async def embed(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/media embed <uuid> [autoplay] [loop] [mute]``."""
    flags = parse_embed_flags(inv.args[1:])
    found, snippet = await c.media.embed(inv.args[0], flags)
    await respond(
        text=snippet.iframe,
        blocks=render.embed_snippet(found, snippet),
        response_type="ephemeral",
    )


SUBCOMMANDS = (
    Subcommand("list", "list [page]", "videos, newest first, 10 a page", list_, 0, 1),
    Subcommand("info", "info <uuid>", "a video's status, size and links", info, 1, 1),
    Subcommand(
        "stats",
        "stats <uuid> [period]",
        "views, watch time, completion and breakdowns; period 15m 1h 6h 24h 7d 30d 3m 6m 1y all"
        " (default 7d)",
        stats,
        1,
        2,
    ),
    Subcommand("delete", "delete <uuid>", "delete a video for good (asks first)", delete, 1, 1),
    Subcommand(
        "upload",
        "upload <url> [title]",
        "import a video from a public URL; alone, opens a form",
        upload,
        0,
    ),
    Subcommand(
        "presign",
        "presign <filename> [title]",
        "an upload URL for a file, shown only to you",
        presign,
        1,
    ),
    Subcommand(
        "embed",
        "embed <uuid> [autoplay] [loop] [mute]",
        "the iframe snippet of a video",
        embed,
        1,
        4,
    ),
)


# -- buttons ------------------------------------------------------------------------


async def delete_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Delete button: through :meth:`MediaService.delete`, then answer in place."""
    actor = actor_of_click(body, c.clock())
    result = await c.media.delete(actor, clicked_value(body), button=button_of(body))
    if isinstance(result, AlreadyUsed):
        claim = result.claim
        who = f"<@{claim.actor_id}> {slack_date(claim.claimed_at)}" if claim else "someone"
        await respond(
            text=f":information_source: This Delete button was already used by {who}.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if isinstance(result, DeleteScheduled):
        text, blocks = render.delete_scheduled(result.pending, result.actor_id)
        await respond(text=text, blocks=blocks, replace_original=True)
        if is_ephemeral(body):
            await respond(text=text, blocks=blocks, response_type="in_channel")
        return
    note = delete_note(result)
    await respond(
        text=note,
        blocks=spend_button(message_blocks(body), MEDIA_DELETE, note),
        replace_original=True,
    )
    if isinstance(result, Deleted) and is_ephemeral(body):
        await respond(text=note, response_type="in_channel", replace_original=False)


async def undo_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Undo button of a scheduled delete: through :meth:`MediaService.undo_delete`."""
    value = clicked_value(body)
    if not value.isdigit():
        raise InvalidInput("this Undo button carries no delete")
    result = await c.media.undo_delete(actor_of_click(body, c.clock()), int(value))
    if isinstance(result, TooLate):
        await respond(
            text=render.delete_too_late(result.pending),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    note = render.delete_undone(result.pending, result.actor_id, result.at)
    await respond(text=note, blocks=[section(note)], replace_original=True)


def delete_note(result: Deleted | DeleteFailed) -> str:
    """What a used Delete button's message says about it."""
    uuid, when = esc(result.uuid), slack_date(result.at)
    if isinstance(result, DeleteFailed):
        words = provider_error_text(result.error)
        return (
            f":x: <@{result.actor_id}> tried to delete `{uuid}` {when}: {esc(words)}. "
            f"Run `/media delete {uuid}` to try again."
        )
    return f":wastebasket: Video `{uuid}` deleted by <@{result.actor_id}> {when}."


async def details_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Details button."""
    found = await c.media.info(clicked_value(body))
    await respond(
        text=f"{esc(found.title)} ({esc(found.status)})",
        blocks=render.media_details(found),
        response_type="ephemeral",
        replace_original=False,
    )


def _stats_choice(body: dict[str, Any]) -> tuple[str, str]:
    uuid, _, period = clicked_value(body).partition("|")
    return check_uuid(uuid), parse_period(period or None)


async def stats_period_chosen(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The period menu of ``/media stats``: the same message, another period."""
    uuid, period = _stats_choice(body)
    found, numbers = await asyncio.gather(c.media.info(uuid), c.media.stats(uuid, period))
    await respond(
        text=f"{esc(found.title)}: {numbers.views} views over {period}",
        blocks=render.media_stats(numbers, found),
        replace_original=True,
    )


async def stats_chart_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The Chart button: a PNG in the message's thread, or the requester's DM when ephemeral."""
    uuid, period = _stats_choice(body)
    found, png = await c.media.chart(uuid, period)
    user = str((body.get("user") or {}).get("id") or "")
    if is_ephemeral(body) or not message_ts(body):
        opened = await c.slack.conversations_open(users=user)
        channel, thread = str(opened["channel"]["id"]), None
    else:
        channel = str((body.get("channel") or {}).get("id") or "")
        thread = message_ts(body)
    await c.slack.files_upload_v2(
        channel=channel,
        thread_ts=thread,
        content=png,
        filename=f"stats-{uuid}-{period}.png",
        title=f"{found.title or uuid} · views and audience ({period})",
    )
    where = "in the thread" if thread else "in your DM with the bot"
    await respond(
        text=f":bar_chart: The chart of {esc(found.title or uuid)} is {where}.",
        response_type="ephemeral",
        replace_original=False,
    )


async def page_clicked(body: dict[str, Any], c: Container, respond: AsyncRespond) -> None:
    """The paging buttons of ``/media list``."""
    page = await c.media.page(parse_page(clicked_value(body)))
    await respond(
        text=f"StreamStack videos, page {page.current_page} of {page.last_page}",
        blocks=render.media_list(page),
        replace_original=True,
    )


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add the ``/media`` subcommands and the video buttons."""
    routers.media.add(*SUBCOMMANDS)
    for action_id, work in (
        (MEDIA_DELETE, delete_clicked),
        (MEDIA_UNDO_DELETE, undo_clicked),
        (MEDIA_DETAILS, details_clicked),
        (MEDIA_STATS_PERIOD, stats_period_chosen),
        (MEDIA_STATS_CHART, stats_chart_clicked),
        (re.compile(rf"^{re.escape(MEDIA_PAGE)}:"), page_clicked),
    ):
        app.action(action_id)(click_listener(work, container))
