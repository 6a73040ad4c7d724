"""``/live``: thin listeners over :mod:`bot.services.live`.

Private host ids and encoder keys are answered ephemerally to the requester
only; channel messages, logs and audit rows never carry them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.providers.streamapi_xml import PROVIDER
from bot.services.actor import Target, authorize
from bot.services.live import LiveService, parse_create, parse_recordings
from handlers.blocks import live as render
from handlers.requests import actor_of_command, audit_trail, keep_out_of_logs
from handlers.router import Invocation

if TYPE_CHECKING:
    from handlers import Routers


def register(deps: Deps, routers: Routers) -> None:
    """Add the ``/live`` subcommands."""
    service = LiveService(deps.streamapi)
    live = routers.live

    @live.sub("list", "list", "sessions streaming now", max_args=0)
    async def list_(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        sessions = await service.live()
        await respond(
            text=f"{len(sessions)} live now",
            blocks=render.live_list(sessions),
            response_type="ephemeral",
        )

    @live.sub(
        "info", "info <public_hostid>", "whether a host is live, and its audience",
        min_args=1, max_args=1,
    )  # fmt: skip
    async def info(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        session = await service.info(inv.args[0])
        state = "live" if session.is_live else "not live"
        await respond(
            text=f"Host {session.public_hostid} is {state}",
            blocks=render.live_info(session),
            response_type="ephemeral",
        )

    @live.sub(
        "create",
        "create [username] [--private]",
        "a new broadcast session; its private id and encoder key are shown only to you",
        max_args=2,
    )
    async def create(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
        options = parse_create(inv.args)
        target = Target(PROVIDER, "host", None, {"username": options.username or ""})
        await authorize(deps.authz, trail, "live.create", "session.create", target)
        created = await service.create(options, trail)
        session = created.session
        keep_out_of_logs(session.private_hostid, created.encoder_key, session.encoder_url)
        await respond(
            text=f"New live session {created.session.public_hostid}; details only for you",
            blocks=render.created_session(created),
            response_type="ephemeral",
        )

    @live.sub(
        "hostid",
        "hostid <id>",
        "public ↔ private host id (digits are public); answered only to you",
        min_args=1,
        max_args=1,
    )
    async def hostid(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        if inv.args[0].isdigit():
            # The private id lets its holder broadcast: only broadcasters may look it up.
            trail = audit_trail(deps, actor_of_command(inv, deps.clock()))
            target = Target(PROVIDER, "host", inv.args[0])
            await authorize(deps.authz, trail, "live.create", "host.lookup", target)
        ids = await service.lookup(inv.args[0])
        keep_out_of_logs(ids.private_hostid)
        await respond(
            text=f"Host {ids.public_hostid}",
            blocks=render.host_ids(ids),
            response_type="ephemeral",
        )

    @live.sub(
        "recordings",
        "recordings [public_hostid] [since] [until]",
        "recordings, newest first; dates like 2026-11-01 or 7d",
        max_args=3,
    )
    async def recordings(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        wanted = parse_recordings(inv.args, now=deps.clock())
        videos = await service.recordings(wanted)
        await respond(
            text=f"{len(videos)} recordings",
            blocks=render.recordings(videos, wanted),
            response_type="ephemeral",
        )

    @live.sub("themes", "themes", "the player layout themes", max_args=0)
    async def themes(inv: Invocation, respond: AsyncRespond, _: AsyncWebClient) -> None:
        items = await service.themes()
        await respond(
            text=f"{len(items)} themes",
            blocks=render.themes(items),
            response_type="ephemeral",
        )
