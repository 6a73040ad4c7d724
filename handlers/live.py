"""``/live``: thin listeners over :mod:`bot.services.live`.

Private host ids and encoder keys are answered ephemerally to the requester
only; channel messages, logs and audit rows never carry them.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Container
from bot.services.live import parse_recordings
from handlers.blocks import live as render
from handlers.requests import actor_of_command, keep_out_of_logs
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
        text=f"Host {session.public_hostid} is {state}",
        blocks=render.live_info(session),
        response_type="ephemeral",
    )


async def create(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live create [username] [--private]``: the secrets go to the requester only."""
    created = await c.live.create(actor_of_command(inv, c.clock()), inv.args)
    session = created.session
    keep_out_of_logs(session.private_hostid, created.encoder_key, session.encoder_url)
    await respond(
        text=f"New live session {created.session.public_hostid}; details only for you",
        blocks=render.created_session(created),
        response_type="ephemeral",
    )


async def hostid(inv: Invocation, c: Container, respond: AsyncRespond, _: AsyncWebClient) -> None:
    """``/live hostid <id>``: public ↔ private, answered only to the requester."""
    ids = await c.live.lookup(actor_of_command(inv, c.clock()), inv.args[0])
    keep_out_of_logs(ids.private_hostid)
    await respond(
        text=f"Host {ids.public_hostid}",
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
    """Add the ``/live`` subcommands."""
    routers.live.add(*SUBCOMMANDS)
