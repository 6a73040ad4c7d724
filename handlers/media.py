"""``/media`` and the buttons on video messages: thin listeners over :mod:`bot.services.media`.

Each listener builds an actor, checks the role (refusals are audited), calls
the service, renders, and answers through ``respond``. Delete is one-shot: the
first click claims the button, later or concurrent clicks are told who used it.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import InvalidInput, ProviderError
from bot.providers.streamstack import PROVIDER
from bot.services.actor import Target, authorize
from bot.services.media import (
    MediaService,
    check_source_url,
    check_title,
    check_uuid,
    display_url,
    parse_embed_flags,
    parse_period,
    title_from_url,
)
from handlers.blocks import media as render
from handlers.blocks.parts import esc, slack_date, spend_button
from handlers.ids import MEDIA_DELETE, MEDIA_DETAILS, MEDIA_PAGE
from handlers.requests import (
    actor_of_click,
    actor_of_command,
    audit_trail,
    click_listener,
    clicked_value,
    is_ephemeral,
    keep_out_of_logs,
    message_blocks,
    message_ts,
)
from handlers.router import Invocation, provider_error_text

if TYPE_CHECKING:
    from handlers import Routers


def parse_page(text: str | None) -> int:
    """A page number from 1 (default 1)."""
    if text is None:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise InvalidInput(f"`{text[:20]}` is not a page number (1, 2, 3...)")
    return int(text)


def register(app: AsyncApp, deps: Deps, routers: Routers) -> None:
    """Add the ``/media`` subcommands and the video buttons."""
    service = MediaService(deps.streamstack)
    media = routers.media

    @media.sub("list", "list [page]", "videos, newest first, 10 a page", max_args=1)
    async def list_(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        page = await service.page(parse_page(inv.args[0] if inv.args else None))
        text = f"StreamStack videos, page {page.current_page} of {page.last_page}"
        await respond(text=text, blocks=render.media_list(page), response_type="ephemeral")

    @media.sub("info", "info <uuid>", "a video's status, size and links", min_args=1, max_args=1)
    async def info(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        found = await service.info(inv.args[0])
        await respond(
            text=f"{found.title} ({found.status})",
            blocks=render.media_details(found),
            response_type="ephemeral",
        )

    @media.sub(
        "stats",
        "stats <uuid> [period]",
        "views, watch time, completion and breakdowns; period 15m 1h 6h 24h 7d 30d 3m 6m 1y all"
        " (default 7d)",
        min_args=1,
        max_args=2,
    )
    async def stats(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        uuid = check_uuid(inv.args[0])
        period = parse_period(inv.args[1] if len(inv.args) > 1 else None)
        found, numbers = await asyncio.gather(service.info(uuid), service.stats(uuid, period))
        await respond(
            text=f"{found.title}: {numbers.views} views over {period}",
            blocks=render.media_stats(numbers, found),
            response_type="ephemeral",
        )

    @media.sub("delete", "delete <uuid>", "delete a video for good (asks first)", min_args=1,
               max_args=1)  # fmt: skip
    async def delete(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        uuid = check_uuid(inv.args[0])
        trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
        target = Target(PROVIDER, "video", uuid)
        await authorize(deps.authz, trail, "media.delete", "delete", target)
        found = await service.info(uuid)
        await respond(
            text=f"Delete {found.title}?",
            blocks=render.delete_prompt(found),
            response_type="ephemeral",
        )

    @media.sub("upload", "upload <url> [title]", "import a video from a public URL", min_args=1)
    async def upload(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        actor = actor_of_command(inv, deps.clock())
        trail = audit_trail(deps, actor)
        url = check_source_url(inv.args[0])
        target = Target(PROVIDER, "video", None, {"source": display_url(url)})
        await authorize(deps.authz, trail, "media.upload", "upload", target)
        title = check_title(inv.args[1:], title_from_url(url))
        created = await service.import_url(url, title, trail)
        await respond(
            text=f"Importing {created.title} ({created.uuid})",
            blocks=render.upload_started(created, actor.user_id, display_url(url)),
            response_type="in_channel",
        )

    @media.sub(
        "presign",
        "presign <filename> [title]",
        "an upload URL for a file, shown only to you",
        min_args=1,
    )
    async def presign(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
        filename = inv.args[0]
        target = Target(PROVIDER, "video", None, {"filename": filename, "mode": "presign"})
        await authorize(deps.authz, trail, "media.upload", "upload", target)
        title = check_title(inv.args[1:], filename.rsplit(".", 1)[0] or filename)
        upload_target = await service.presign(filename, title, trail)
        keep_out_of_logs(urlsplit(upload_target.upload_url).query or upload_target.upload_url)
        await respond(
            text=f"Upload target for {title} ({upload_target.uuid}), only for you",
            blocks=render.presigned(upload_target, title, filename),
            response_type="ephemeral",
        )

    @media.sub(
        "embed",
        "embed <uuid> [autoplay] [loop] [mute]",
        "the iframe snippet of a video",
        min_args=1,
        max_args=4,
    )
    async def embed(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        flags = parse_embed_flags(inv.args[1:])
        found, snippet = await service.embed(inv.args[0], flags)
        await respond(
            text=snippet.iframe,
            blocks=render.embed_snippet(found, snippet),
            response_type="ephemeral",
        )

    # -- buttons ------------------------------------------------------------------------

    async def delete_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        actor = actor_of_click(body, deps.clock())
        uuid = check_uuid(clicked_value(body))
        target = Target(PROVIDER, "video", uuid)
        actor_trail = audit_trail(deps, actor)
        await authorize(deps.authz, actor_trail, "media.delete", "delete", target)
        key = f"media.delete:{uuid}:{message_ts(body)}"
        if not await deps.claims.claim(key, actor.user_id):
            claim = await deps.claims.get(key)
            who = f"<@{claim.actor_id}> {slack_date(claim.claimed_at)}" if claim else "someone"
            await actor_trail.record("delete", "denied", target, "button already used")
            await respond(
                text=f":information_source: This Delete button was already used by {who}.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        when = slack_date(deps.clock())
        try:
            await service.delete(uuid, actor_trail)
        except ProviderError as exc:
            words = provider_error_text(exc)
            await deps.claims.finish(key, "failed", words)
            note = (
                f":x: <@{actor.user_id}> tried to delete `{esc(uuid)}` {when}: {esc(words)}. "
                f"Run `/media delete {esc(uuid)}` to try again."
            )
            await respond(
                text=note,
                blocks=spend_button(message_blocks(body), MEDIA_DELETE, note),
                replace_original=True,
            )
            return
        await deps.claims.finish(key, "ok")
        note = f":wastebasket: Video `{esc(uuid)}` deleted by <@{actor.user_id}> {when}."
        await respond(
            text=note,
            blocks=spend_button(message_blocks(body), MEDIA_DELETE, note),
            replace_original=True,
        )
        if is_ephemeral(body):
            await respond(text=note, response_type="in_channel", replace_original=False)

    async def details_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        found = await service.info(clicked_value(body))
        await respond(
            text=f"{found.title} ({found.status})",
            blocks=render.media_details(found),
            response_type="ephemeral",
            replace_original=False,
        )

    async def page_clicked(body: dict[str, Any], respond: AsyncRespond) -> None:
        page = await service.page(parse_page(clicked_value(body)))
        await respond(
            text=f"StreamStack videos, page {page.current_page} of {page.last_page}",
            blocks=render.media_list(page),
            replace_original=True,
        )

    for action_id, work in (
        (MEDIA_DELETE, delete_clicked),
        (MEDIA_DETAILS, details_clicked),
        (re.compile(rf"^{re.escape(MEDIA_PAGE)}:"), page_clicked),
    ):
        app.action(action_id)(click_listener(work))
