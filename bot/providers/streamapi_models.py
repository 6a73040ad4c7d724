"""Typed results of the StreamAPI client (frozen; never raw XML or dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Where an external encoder (e.g. Flash Media Live Encoder) publishes to.
FME_RTMP_BASE = "rtmp://fme.streamapi.com/hd_receiver"


@dataclass(frozen=True)
class Session:
    """A created session: the broadcaster's private id and the viewers' public id.

    Attributes:
        encoder_url: the RTMP URL for an external encoder, when an ``fme_key`` was
            given. It embeds that key, so it is kept out of the repr.
    """

    private_hostid: str
    public_hostid: str
    encoder_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HostIds:
    """Both ids of one host (the reply of the public↔private look-ups)."""

    public_hostid: str
    private_hostid: str


@dataclass(frozen=True)
class LiveSession:
    """What StreamAPI says about a session's live state.

    From ``/session/live`` an offline host has ``is_live=False`` and nothing else;
    ``/session/live/list`` adds the viewer and chatter counters.
    """

    public_hostid: str
    is_live: bool
    private_hostid: str | None = None
    username: str | None = None
    start_time: datetime | None = None
    duration: timedelta | None = None
    channel_id: str | None = None
    current_viewers: int | None = None
    current_chatters: int | None = None
    total_viewers: int | None = None
    total_chatters: int | None = None
    max_viewers: int | None = None
    max_chatters: int | None = None


@dataclass(frozen=True)
class Video:
    """One recording of a live session."""

    id: str
    creation_date: datetime
    public_hostid: str | None = None
    duration: timedelta | None = None
    channel_id: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None
    embed_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Theme:
    """A layout theme for the StreamAPI player."""

    id: str
    name: str
    width: int | None = None
    height: int | None = None
    layout_path: str | None = None
    skin_path: str | None = None
