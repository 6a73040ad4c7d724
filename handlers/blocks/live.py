"""Block Kit for ``/live``: sessions, hosts, recordings and themes (pure).

Private host ids and encoder keys appear only in :func:`created_session` and
:func:`host_ids`, which the handler sends ephemerally to the requester.
"""

from __future__ import annotations

import json

from bot.providers.streamapi import HostIds, LiveSession, Theme, Video
from bot.services.live import CreatedSession, RecordingFilter
from handlers.blocks.parts import (
    Block,
    actions,
    button,
    code,
    code_block,
    context,
    duration_text,
    esc,
    fields_section,
    header,
    link,
    number,
    section,
    size_text,
    slack_date,
)
from handlers.ids import LIVE_RECORDINGS_PAGE

MAX_RECORDINGS = 20
MAX_SESSIONS = 40


def _count(value: int | None) -> str:
    return "—" if value is None else number(value)


def live_list(sessions: list[LiveSession]) -> list[Block]:
    """Sessions streaming now, one line each (public ids only)."""
    blocks: list[Block] = [header("Live now on StreamAPI")]
    if not sessions:
        blocks.append(section("Nobody is live right now."))
        blocks.append(context("New sessions can take up to a minute to appear."))
        return blocks
    for session in sessions[:MAX_SESSIONS]:
        who = esc(session.username or "unnamed")
        blocks.append(
            section(
                f":red_circle: *{who}* · host {code(session.public_hostid)}\n"
                f"{_count(session.current_viewers)} watching · "
                f"{_count(session.current_chatters)} chatting · "
                f"live for {duration_text(session.duration)}"
            )
        )
    more = len(sessions) - MAX_SESSIONS
    footer = f"{len(sessions)} live" + (f"; {more} not shown" if more > 0 else "")
    blocks.append(context(f"{footer} · {code('/live info <public_hostid>')} for one host"))
    return blocks


def live_info(session: LiveSession) -> list[Block]:
    """One host's live state (never its private id)."""
    if not session.is_live:
        return [section(f":black_circle: Host {code(session.public_hostid)} is not live.")]
    return [
        section(
            f":red_circle: *{esc(session.username or 'unnamed')}* is live · "
            f"host {code(session.public_hostid)}"
        ),
        fields_section(
            [
                f"*Since*\n{slack_date(session.start_time)}",
                f"*Duration*\n{duration_text(session.duration)}",
                f"*Watching*\n{_count(session.current_viewers)}",
                f"*Chatting*\n{_count(session.current_chatters)}",
                f"*Viewers in all*\n{_count(session.total_viewers)}",
                f"*Channel*\n{esc(session.channel_id or '—')}",
            ]
        ),
    ]


def created_session(created: CreatedSession) -> list[Block]:
    """The requester-only reply to ``/live create``: the ids and the encoder settings."""
    session = created.session
    who = f" for *{esc(created.username)}*" if created.username else ""
    privacy = "private (signed-in viewers only)" if created.private else "public"
    encoder = session.encoder_url or "—"
    return [
        section(
            f":lock: New {privacy} live session{who}. Keep this to yourself: the "
            "private host id and encoder key let anyone broadcast as this host."
        ),
        fields_section(
            [
                f"*Public host id* (for viewers)\n{code(session.public_hostid)}",
                f"*Private host id* (for the broadcaster)\n{code(session.private_hostid)}",
                f"*Encoder key*\n{code(created.encoder_key)}",
            ]
        ),
        section(f"*Encoder URL*\n{code_block(encoder)}"),
        context(f"{code(f'/live info {session.public_hostid}')} shows when it goes live."),
    ]


def public_session_card(created: CreatedSession, actor_id: str) -> list[Block]:
    """The channel's view of a new session: who made it and the public host id, no secrets."""
    who = f" *{esc(created.username)}*" if created.username else ""
    privacy = "private" if created.private else "public"
    host = esc(created.session.public_hostid)
    return [
        section(
            f":satellite_antenna: <@{actor_id}> created a {privacy} live session{who} · "
            f"public host `{host}`"
        ),
        context(f"`/live info {host}` shows when it goes live and who is watching."),
    ]


def host_ids(ids: HostIds) -> list[Block]:
    """The requester-only answer to ``/live hostid``."""
    return [
        section(
            f"Public host id {code(ids.public_hostid)} ↔ private host id {code(ids.private_hostid)}"
        ),
        context("Only you can see this: keep the private id to the broadcaster."),
    ]


def _filter_text(wanted: RecordingFilter) -> str:
    parts = []
    if wanted.public_hostid:
        parts.append(f"host {code(wanted.public_hostid)}")
    if wanted.since:
        parts.append(f"since {slack_date(wanted.since, '{date_short_pretty}')}")
    if wanted.until:
        parts.append(f"until {slack_date(wanted.until, '{date_short_pretty}')}")
    return ", ".join(parts) or "all hosts, any time"


def recordings_value(wanted: RecordingFilter, page: int) -> str:
    """A paging button's value: the filter (as epoch seconds) and the page to show."""
    return json.dumps(
        {
            "h": wanted.public_hostid,
            "s": int(wanted.since.timestamp()) if wanted.since else None,
            "u": int(wanted.until.timestamp()) if wanted.until else None,
            "p": page,
        },
        separators=(",", ":"),
    )


def recordings(videos: list[Video], wanted: RecordingFilter, page: int = 1) -> list[Block]:
    """Recordings newest first, :data:`MAX_RECORDINGS` a page, with Previous/Next buttons.

    A page past the end shows the last one.
    """
    blocks: list[Block] = [header("Recordings"), context(_filter_text(wanted))]
    if not videos:
        blocks.append(section("No recordings match."))
        return blocks
    pages = (len(videos) + MAX_RECORDINGS - 1) // MAX_RECORDINGS
    page = min(max(page, 1), pages)
    first = (page - 1) * MAX_RECORDINGS
    for video in videos[first : first + MAX_RECORDINGS]:
        name = esc(video.filename or f"video {video.id}")
        title = link(video.url, video.filename or f"video {video.id}") if video.url else name
        blocks.append(
            section(
                f"*{title}*\n{slack_date(video.creation_date)} · host "
                f"{code(video.public_hostid or '—')} · {duration_text(video.duration)} · "
                f"{size_text(video.size)}"
            )
        )
    if pages > 1:
        blocks.append(context(f"Page {page} of {pages} · {len(videos)} recordings"))
        nav: list[Block] = []
        if page > 1:
            nav.append(
                button("◀ Previous", LIVE_RECORDINGS_PAGE, recordings_value(wanted, page - 1))
            )
        if page < pages:
            nav.append(button("Next ▶", LIVE_RECORDINGS_PAGE, recordings_value(wanted, page + 1)))
        blocks.append(actions(*nav))
    return blocks


def themes(items: list[Theme]) -> list[Block]:
    """The player layout themes."""
    blocks: list[Block] = [header("Player themes")]
    if not items:
        blocks.append(section("No themes are available."))
        return blocks
    lines = []
    for theme in items[:100]:
        size = f"{theme.width}×{theme.height}" if theme.width and theme.height else "any size"
        lines.append(f"• *{esc(theme.name)}* (id {code(theme.id)}) · {size}")
    blocks.append(section("\n".join(lines)))
    return blocks
