"""``/live``: thin listeners over :mod:`bot.services.live`.

Private host ids and encoder keys are answered ephemerally to the requester
only; channel messages, logs and audit rows never carry them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.errors import InvalidInput
from bot.services.live import RecordingFilter, parse_recordings
from handlers.blocks import live as render
from handlers.blocks.parts import esc
from handlers.ids import LIVE_RECORDINGS_PAGE
from handlers.requests import actor_of_command, click_listener, clicked_value, keep_out_of_logs
from handlers.router import Invocation, Routers, Subcommand


async def list_(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live list``."""
    sessions = await c.live.live()
    await respond(
        text=f"{len(sessions)} live now",
        blocks=render.live_list(sessions),
        response_type="ephemeral",
    )


async def info(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live info <public_hostid>``."""
    session = await c.live.info(inv.args[0])
    state = "live" if session.is_live else "not live"
    await respond(
        text=f"Host {esc(session.public_hostid)} is {state}",
        blocks=render.live_info(session),
        response_type="ephemeral",
    )


async def create(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live create [username] [--private]``: secrets by DM, a public card to the channel.

    The DM keeps the private host id, encoder key and RTMP URL where the requester can
    find them again; if Slack refuses the DM, they come back ephemerally instead.
    """
    actor = actor_of_command(inv, c.clock())
    created = await c.live.create(actor, inv.args)
    session = created.session
    keep_out_of_logs(session.private_hostid, created.encoder_key, session.encoder_url)
    secret_text = f"New live session {session.public_hostid}: its private details"
    try:
        opened = await c.slack.conversations_open(users=actor.user_id)
        await c.slack.chat_postMessage(
            channel=str(opened["channel"]["id"]),
            text=secret_text,
            blocks=render.created_session(created),
        )
    except SlackApiError as exc:
        reason = str(exc.response.get("error") or "refused")
        await respond(
            text=f"{secret_text} (Slack refused the DM: {esc(reason)}; shown here, only to you)",
            blocks=render.created_session(created),
            response_type="ephemeral",
        )
    else:
        await respond(
            text=":envelope_with_arrow: The private host id and encoder key are in your DM.",
            response_type="ephemeral",
        )
    await respond(
        text=f"New live session, public host {esc(session.public_hostid)}",
        blocks=render.public_session_card(created, actor.user_id),
        response_type="in_channel",
        replace_original=False,
    )


async def hostid(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live hostid <id>``: public ↔ private, answered only to the requester."""
    ids = await c.live.lookup(actor_of_command(inv, c.clock()), inv.args[0])
    keep_out_of_logs(ids.private_hostid)
    await respond(
        text=f"Host {esc(ids.public_hostid)}",
        blocks=render.host_ids(ids),
        response_type="ephemeral",
    )


async def recordings(
    inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient
) -> None:
    """``/live recordings [public_hostid] [since] [until]``."""
    wanted = parse_recordings(inv.args, now=c.clock())
    videos = await c.live.recordings(wanted)
    await respond(
        text=f"{len(videos)} recordings",
        blocks=render.recordings(videos, wanted),
        response_type="ephemeral",
    )


async def recordings_page_clicked(
    body: dict[str, Any], c: Container, respond: AsyncRespond
) -> None:
    """Previous/Next under ``/live recordings``: the same filter, another page, in place."""
    wanted, page = recordings_request(clicked_value(body))
    videos = await c.live.recordings(wanted)
    await respond(
        text=f"{len(videos)} recordings",
        blocks=render.recordings(videos, wanted, page),
        replace_original=True,
    )


def recordings_request(raw: str) -> tuple[RecordingFilter, int]:
    """The filter and page a paging button carries (a forged value is refused in words)."""
    try:
        value = json.loads(raw)
        host, since, until = value.get("h"), value.get("s"), value.get("u")
        wanted = RecordingFilter(
            str(host) if host else None,
            datetime.fromtimestamp(int(since), UTC) if since is not None else None,
            datetime.fromtimestamp(int(until), UTC) if until is not None else None,
        )
        return wanted, max(int(value.get("p", 1)), 1)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise InvalidInput("this paging button's value could not be read") from None


async def themes(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live themes``."""
    items = await c.live.themes()
    await respond(
        text=f"{len(items)} themes",
        blocks=render.themes(items),
        response_type="ephemeral",
    )


SUBCOMMANDS = (
    Subcommand("list", "list", "sessions streaming now", list_, 0, 0),
    Subcommand(
        "info", "info <public_hostid>", "whether a host is live, and its audience", info, 1, 1
    ),
    Subcommand(
        "create",
        "create [username] [--private]",
        "a new broadcast session; its private id and encoder key are shown only to you",
        create,
        0,
        2,
    ),
    Subcommand(
        "hostid",
        "hostid <id>",
        "public ↔ private host id (digits are public); answered only to you",
        hostid,
        1,
        1,
    ),
    Subcommand(
        "recordings",
        "recordings [public_hostid] [since] [until]",
        "recordings, newest first; dates like 2026-11-01 or 7d",
        recordings,
        0,
        3,
    ),
    Subcommand("themes", "themes", "the player layout themes", themes, 0, 0),
)


def register(app: AsyncApp, container: Container, routers: Routers) -> None:
    """Add the ``/live`` subcommands and the recordings' paging buttons."""
    routers.live.add(*SUBCOMMANDS)
    app.action(LIVE_RECORDINGS_PAGE)(click_listener(recordings_page_clicked, container))
