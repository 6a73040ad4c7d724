"""StreamAPI live sessions for the ``/live`` command: argument rules and audited actions.

A session's private host id and encoder key let anyone broadcast as that host,
so :meth:`LiveService.create` returns them to the caller only; the audit log
gets the public host id and the options, never the secrets.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.mrkdwn import code
from bot.providers.streamapi import HostIds, LiveSession, Session, StreamAPIClient, Theme, Video
from bot.providers.streamapi_xml import PROVIDER
from bot.services.actor import Actor, Gate, Target

_DIGITS = re.compile(r"^[0-9]{1,20}$")
_PRIVATE = re.compile(r"^[A-Za-z0-9]{1,40}$")
_USERNAME = re.compile(r"^[A-Za-z0-9]{1,64}$")
_RELATIVE = re.compile(r"^(\d{1,5})([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def check_public_hostid(text: str) -> str:
    """``text`` if it is a public host id (digits), else :class:`InvalidInput`."""
    if not _DIGITS.match(text):
        raise InvalidInput(f"{code(text[:40])} is not a public host id (digits, e.g. 1000016132)")
    return text


def check_username(text: str) -> str:
    """``text`` if StreamAPI accepts it as a username (letters and digits)."""
    if not _USERNAME.match(text):
        raise InvalidInput(
            f"{code(text[:40])} is not a valid username: use letters and digits only"
        )
    return text


def new_encoder_key() -> str:
    """A fresh external-encoder key (12 lowercase hex characters, as in StreamAPI's example)."""
    return secrets.token_hex(6)


@dataclass(frozen=True)
class CreateOptions:
    """What ``/live create`` was asked for."""

    username: str | None = None
    private: bool = False


def parse_create(words: list[str]) -> CreateOptions:
    """``[username] [--private]`` in any order."""
    username: str | None = None
    private = False
    for word in words:
        if word.lower() in ("--private", "private"):
            private = True
        elif word.startswith("-"):
            raise InvalidInput(f"unknown option {code(word[:30])}; the only option is --private")
        elif username is None:
            username = check_username(word)
        else:
            raise InvalidInput(f"unexpected {code(word[:30])}: give at most one username")
    return CreateOptions(username, private)


@dataclass(frozen=True)
class RecordingFilter:
    """Which recordings ``/live recordings`` lists."""

    public_hostid: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def parse_moment(text: str, *, now: datetime, end_of_day: bool) -> datetime:
    """A point in time from ``7d``/``12h``/``2w`` (before ``now``) or ``2026-11-01`` (UTC).

    Args:
        text: the word to read.
        now: the current time, for relative values.
        end_of_day: for a date, the end of that day (an inclusive ``until``).
    """
    relative = _RELATIVE.match(text.lower())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{code(text[:30])} is not a date: use e.g. 2026-11-01 or 7d") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1, milliseconds=-1) if end_of_day else start


def parse_recordings(words: list[str], *, now: datetime) -> RecordingFilter:
    """``[public_hostid] [since] [until]``: a leading all-digit word is the host."""
    rest = list(words)
    host = None
    if rest and _DIGITS.match(rest[0]):
        host = rest.pop(0)
    if len(rest) > 2:
        raise InvalidInput(f"unexpected {code(rest[2][:30])}: give at most a since and an until")
    since = parse_moment(rest[0], now=now, end_of_day=False) if rest else None
    until = parse_moment(rest[1], now=now, end_of_day=True) if len(rest) > 1 else None
    if since and until and since >= until:
        raise InvalidInput("`since` must be before `until`")
    return RecordingFilter(host, since, until)


@dataclass(frozen=True)
class CreatedSession:
    """A new session with the secrets only its broadcaster may see."""

    session: Session
    encoder_key: str
    private: bool
    username: str | None


class LiveService:
    """StreamAPI operations as ``/live`` offers them.

    Args:
        client: the StreamAPI client, or None when StreamAPI is not configured.
        gate: authorization and the audit trail.
        new_key: makes encoder keys (injectable for tests).
    """

    def __init__(
        self,
        client: StreamAPIClient | None,
        gate: Gate,
        new_key: Callable[[], str] = new_encoder_key,
    ) -> None:
        self._client_or_none = client
        self.gate = gate
        self._new_key = new_key

    @property
    def _client(self) -> StreamAPIClient:
        if self._client_or_none is None:
            raise UserFacingError("StreamAPI is not configured on this bot (STREAMAPI_KEY)")
        return self._client_or_none

    async def live(self) -> list[LiveSession]:
        """Every session streaming now."""
        return await self._client.live_sessions()

    async def info(self, public_hostid: str) -> LiveSession:
        """The live state of one host, with the viewer and chat counts of the live list.

        ``/session/live`` says whether a host is live; only ``/session/live/list``
        carries the counters, so a live host's entry there fills them in (a session
        may take up to a minute to appear in the list: then the counts stay unknown).
        """
        session = await self._client.live_session(check_public_hostid(public_hostid))
        if not session.is_live:
            return session
        for listed in await self._client.live_sessions():
            if listed.public_hostid == session.public_hostid:
                return replace(
                    session,
                    username=session.username or listed.username,
                    start_time=session.start_time or listed.start_time,
                    duration=session.duration or listed.duration,
                    current_viewers=listed.current_viewers,
                    current_chatters=listed.current_chatters,
                    total_viewers=listed.total_viewers,
                )
        return session

    async def lookup(self, actor: Actor, host_id: str) -> HostIds:
        """Both ids of a host, from either one: digits are public, anything else private.

        The private id lets its holder broadcast: only broadcasters may look it up.
        """
        if _DIGITS.match(host_id):
            trail = self.gate.trail(actor)
            target = Target(PROVIDER, "host", host_id)
            await self.gate.check(trail, "live.create", "host.lookup", target)
            return await self._client.private_hostid(host_id)
        if not _PRIVATE.match(host_id):
            raise InvalidInput(f"{code(host_id[:40])} is not a host id")
        return await self._client.public_hostid(host_id.upper())

    async def recordings(self, wanted: RecordingFilter) -> list[Video]:
        """Recordings matching ``wanted``, newest first."""
        videos = await self._client.videos(
            public_hostid=wanted.public_hostid, start=wanted.since, end=wanted.until
        )
        return sorted(videos, key=lambda v: v.creation_date, reverse=True)

    async def themes(self) -> list[Theme]:
        """The player layout themes."""
        return await self._client.themes()

    async def create(self, actor: Actor, words: list[str]) -> CreatedSession:
        """``/live create``: a broadcast session with a fresh encoder key, audited.

        The audit row names the public host id, the username and privacy; the
        private host id and the encoder key stay out of it.

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
        """
        trail = self.gate.trail(actor)
        options = parse_create(words)
        target = Target(PROVIDER, "host", None, {"username": options.username or ""})
        await self.gate.check(trail, "live.create", "session.create", target)
        params = {"username": options.username or "", "private": options.private}
        key = self._new_key()
        try:
            session = await self._client.create_session(
                username=options.username,
                fme_key=key,
                is_video_private=True if options.private else None,
            )
        except ProviderError as exc:
            await trail.record("session.create", "failed", Target(PROVIDER, "host"), exc.message)
            raise
        target = Target(PROVIDER, "host", session.public_hostid, params)
        await trail.record("session.create", "ok", target)
        return CreatedSession(session, key, options.private, options.username)
