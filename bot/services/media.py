"""``/media`` use cases: StreamStack videos, argument rules and audited actions.

Reads (list, info, stats, embed) go straight to the client. Changes (delete,
import from a URL, presigned upload) take the actor and run authorize →
validate → claim (the Delete button) → provider call → audit row → a reply
model. The Delete button and ``/media delete`` reach :meth:`MediaService.delete`
and :meth:`MediaService.delete_prompt`. Upload URLs and presigned targets are
capabilities, so only their scheme, host and path ever reach the audit log or
a channel.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from bot.charts import CHART_PERIODS, StatsChart, charts_available, render_png
from bot.charts import MISSING as CHARTS_MISSING
from bot.errors import InvalidInput, ProviderError, UserFacingError
from bot.mrkdwn import code
from bot.providers.streamstack import PROVIDER, StreamStackClient
from bot.providers.streamstack_models import (
    PERIODS,
    Embed,
    Media,
    MediaPage,
    PresignedUpload,
    VideoStats,
)
from bot.services.actor import Actor, Gate, Target
from bot.services.governance import Frozen, Governance
from bot.services.oneshot import AlreadyUsed, Button, OneShot
from storage.notifications import DeleteResult
from storage.outbox import OutboxStore
from storage.pending_deletes import DONE, FAILED, PendingDeleteStore
from storage.pending_deletes import PendingDelete as PendingDelete

DEFAULT_PERIOD = "7d"
PAGE_SIZE = 10
EMBED_FLAGS = ("autoplay", "loop", "mute")
MAX_TITLE = 255

_UUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,255}$")


def check_uuid(text: str) -> str:
    """``text`` if it can be a video uuid, else :class:`InvalidInput` saying so."""
    if not _UUID.match(text):
        raise InvalidInput(f"{code(text[:80])} is not a video uuid (see `/media list`)")
    return text


def parse_period(text: str | None) -> str:
    """The stats period named by ``text`` (default ``7d``), case-insensitive."""
    if text is None:
        return DEFAULT_PERIOD
    period = text.strip().lower()
    if period not in PERIODS:
        raise InvalidInput(f"unknown period {code(text[:20])}; use one of {', '.join(PERIODS)}")
    return period


@dataclass(frozen=True)
class EmbedFlags:
    """Player options for ``/media embed``."""

    autoplay: bool = False
    loop: bool = False
    mute: bool = False


def parse_embed_flags(words: list[str]) -> EmbedFlags:
    """Flags from words such as ``autoplay loop`` (``--mute`` works too)."""
    chosen: set[str] = set()
    for word in words:
        flag = word.strip().lower().lstrip("-")
        if flag not in EMBED_FLAGS:
            raise InvalidInput(f"unknown option {code(word[:30])}; use {', '.join(EMBED_FLAGS)}")
        chosen.add(flag)
    return EmbedFlags(**{flag: True for flag in chosen})


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to show and to audit."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def check_source_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL, else :class:`InvalidInput`."""
    url = url.strip("<>")  # Slack wraps links it recognises in angle brackets
    url = url.split("|", 1)[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the video URL must start with http:// or https://")
    return url


def title_from_url(url: str) -> str:
    """A default title: the URL's file name without extension, or its host."""
    parts = urlsplit(url)
    name = PurePosixPath(unquote(parts.path)).stem
    return (name or parts.hostname or "Imported video")[:MAX_TITLE]


def check_title(words: list[str], default: str) -> str:
    """The title made of ``words`` (or ``default``), within StreamStack's 255 characters."""
    title = " ".join(words).strip() or default
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"the title is {len(title)} characters long; the limit is {MAX_TITLE}")
    return title


def content_type_for(filename: str) -> str:
    """The video MIME type of ``filename``, or :class:`InvalidInput` if it is not a video."""
    if not _FILENAME.match(filename):
        raise InvalidInput("the file name must be a plain name such as `launch.mp4`")
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    if guessed is None and filename.lower().endswith(".mkv"):
        guessed = "video/x-matroska"
    if guessed is None or not guessed.startswith("video/"):
        raise InvalidInput(
            f"{code(filename[:80])} does not look like a video file; use e.g. .mp4, .mov, .webm"
        )
    return guessed


@dataclass(frozen=True)
class Share:
    """One entry of a breakdown: its label, count and fraction of the whole."""

    label: str
    count: int
    fraction: float


def top_shares(counts: dict[str, int], limit: int = 5) -> list[Share]:
    """The ``limit`` largest entries of ``counts`` with their shares; the rest as "other".

    Ties are broken by label so the order is stable. An empty or all-zero
    breakdown gives an empty list.
    """
    total = sum(max(0, n) for n in counts.values())
    if total <= 0:
        return []
    ranked = sorted(
        ((label, n) for label, n in counts.items() if n > 0), key=lambda kv: (-kv[1], kv[0])
    )
    shares = [Share(label, n, n / total) for label, n in ranked[:limit]]
    rest = sum(n for _, n in ranked[limit:])
    if rest:
        shares.append(Share(f"{len(ranked) - limit} other", rest, rest / total))
    return shares


@dataclass(frozen=True)
class Deleted:
    """A video StreamStack deleted."""

    uuid: str
    actor_id: str
    at: datetime


@dataclass(frozen=True)
class DeleteFailed:
    """StreamStack refused or failed to delete; ``error`` is its error (the button is spent)."""

    uuid: str
    actor_id: str
    at: datetime
    error: ProviderError


@dataclass(frozen=True)
class DeleteScheduled:
    """A delete waiting out its undo window (``pending.due_at``)."""

    pending: PendingDelete
    actor_id: str
    at: datetime


@dataclass(frozen=True)
class Undone:
    """A scheduled delete cancelled in time."""

    pending: PendingDelete
    actor_id: str
    at: datetime


@dataclass(frozen=True)
class TooLate:
    """Undo came after the delete ran (or after another undo): ``pending.state`` says which."""

    pending: PendingDelete


@dataclass(frozen=True)
class UndoWindow:
    """Where scheduled deletes wait, how long, and where their outcome is announced."""

    store: PendingDeleteStore
    outbox: OutboxStore
    window: timedelta


@dataclass(frozen=True)
class Imported:
    """A video being imported from a URL (shown to the channel without the URL's query)."""

    media: Media
    actor_id: str
    source: str


class MediaService:
    """StreamStack operations as ``/media`` offers them.

    Args:
        client: the StreamStack client, or None when StreamStack is not configured.
        gate: authorization and the audit trail.
        once: one-shot button claims (Delete).
        clock: the current time.
        undo: where deletes wait out their undo window (None: delete at once).
    """

    def __init__(
        self,
        client: StreamStackClient | None,
        gate: Gate,
        once: OneShot,
        clock: Callable[[], datetime],
        governance: Governance | None = None,
        undo: UndoWindow | None = None,
    ) -> None:
        self._client_or_none = client
        self.gate = gate
        self.once = once
        self.clock = clock
        self.governance = governance
        self.undo = undo

    @property
    def _client(self) -> StreamStackClient:
        if self._client_or_none is None:
            raise UserFacingError("StreamStack is not configured on this bot (STREAMSTACK_API_KEY)")
        return self._client_or_none

    async def page(self, page: int) -> MediaPage:
        """One page of videos, newest first; past the end, the last page (never "page 99 of 1")."""
        found = await self._client.list_media(page=page, per_page=PAGE_SIZE)
        last = max(found.last_page, 1)
        if page > last:
            found = await self._client.list_media(page=last, per_page=PAGE_SIZE)
        return found

    async def info(self, uuid: str) -> Media:
        """The details of one video."""
        return await self._client.get_media(check_uuid(uuid))

    async def stats(self, uuid: str, period: str) -> VideoStats:
        """Viewing statistics of one video over ``period``."""
        return await self._client.stats(check_uuid(uuid), parse_period(period))

    async def chart(self, uuid: str, period: str) -> tuple[Media, bytes]:
        """A PNG of the video's views per period and the ``period`` breakdowns.

        The four view counts are read concurrently; matplotlib draws in a worker
        thread so the event loop keeps answering Slack meanwhile.

        Raises:
            UserFacingError: charts are not installed (the message says how to add them).
        """
        if not charts_available():
            raise UserFacingError(CHARTS_MISSING)
        uuid, period = check_uuid(uuid), parse_period(period)
        media = await self.info(uuid)
        chosen, *views = await asyncio.gather(
            *(self._client.stats(uuid, p) for p in (period, *CHART_PERIODS))
        )
        chart = StatsChart(
            title=media.title or uuid,
            views={p: s.views for p, s in zip(CHART_PERIODS, views, strict=True)},
            breakdown_period=period,
            quality=dict(chosen.quality),
            devices=dict(chosen.devices),
            geo=dict(chosen.geo),
        )
        return media, await asyncio.to_thread(render_png, chart)

    async def embed(self, uuid: str, flags: EmbedFlags) -> tuple[Media, Embed]:
        """The video (checked to exist) and its iframe snippet."""
        media = await self.info(uuid)
        embed = self._client.embed(
            media.uuid, autoplay=flags.autoplay, loop=flags.loop, mute=flags.mute
        )
        return media, embed

    async def delete_prompt(self, actor: Actor, uuid: str) -> Media:
        """``/media delete``: the video to ask about, once the actor may delete it."""
        uuid = check_uuid(uuid)
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "media.delete", "delete", Target(PROVIDER, "video", uuid))
        return await self.info(uuid)

    async def delete(
        self, actor: Actor, uuid: str, *, button: Button
    ) -> Deleted | DeleteFailed | DeleteScheduled | AlreadyUsed:
        """The Delete button: delete a video for good, once per button.

        With an undo window (``STREAMOPS_DELETE_UNDO_MINUTES`` > 0) the delete is
        scheduled instead, and :meth:`run_due_delete` sends it when the window ends
        unless :meth:`undo_delete` got there first.

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
        """
        uuid = check_uuid(uuid)
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "video", uuid)
        await self.gate.check(trail, "media.delete", "delete", target)
        if self.governance is not None:
            decision = await self.governance.check(None, "delete", actor)
            if isinstance(decision, Frozen):
                raise await self.governance.refuse(trail, decision, "delete", None, uuid, target)
        key = OneShot.key("media.delete", uuid, button)
        used = await self.once.take("delete", key, actor.user_id)
        if used is not None:
            await trail.record("delete", "denied", target, "button already used")
            return used
        at = self.clock()
        if self.undo is not None and self.undo.window > timedelta(0):
            return await self._schedule_delete(actor, uuid, button, key, at)
        try:
            await self._client.delete_media(uuid)
        except ProviderError as exc:
            await self.once.done(key, "failed", exc.message)
            await trail.record("delete", "failed", target, exc.message)
            return DeleteFailed(uuid, actor.user_id, at, exc)
        await self.once.done(key, "ok")
        await trail.record("delete", "ok", target)
        return Deleted(uuid, actor.user_id, at)

    async def _schedule_delete(
        self, actor: Actor, uuid: str, button: Button, key: str, at: datetime
    ) -> DeleteScheduled | DeleteFailed:
        assert self.undo is not None
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "video", uuid)
        try:
            media = await self._client.get_media(uuid)
        except ProviderError as exc:
            await self.once.done(key, "failed", exc.message)
            await trail.record("delete.schedule", "failed", target, exc.message)
            return DeleteFailed(uuid, actor.user_id, at, exc)
        pending, _ = await self.undo.store.schedule(
            media_uuid=uuid,
            title=media.title,
            requested_by=actor.user_id,
            channel_id=button.channel_id or actor.channel_id,
            message_ts=button.message_ts or None,
            due_at=at + self.undo.window,
            now=at,
        )
        await self.once.done(key, "ok", f"scheduled #{pending.id}")
        params = {"due_at": pending.due_at.isoformat(), "pending": pending.id}
        await trail.record("delete.schedule", "ok", Target(PROVIDER, "video", uuid, params))
        return DeleteScheduled(pending, actor.user_id, at)

    async def undo_delete(self, actor: Actor, delete_id: int) -> Undone | TooLate:
        """The Undo button: cancel a scheduled delete while its window is open.

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
            UserFacingError: no such scheduled delete.
        """
        if self.undo is None:
            raise UserFacingError("Deletes are not scheduled on this bot")
        pending = await self.undo.store.get(delete_id)
        if pending is None:
            raise UserFacingError(f"There is no scheduled delete #{delete_id}")
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "video", pending.media_uuid, {"pending": delete_id})
        await self.gate.check(trail, "media.delete", "delete.undo", target)
        now = self.clock()
        if await self.undo.store.undo(delete_id, actor.user_id, now):
            await trail.record("delete.undo", "ok", target)
            return Undone(pending, actor.user_id, now)
        current = await self.undo.store.get(delete_id)
        assert current is not None
        await trail.record("delete.undo", "denied", target, f"too late: {current.state}")
        return TooLate(current)

    async def run_due_delete(self) -> PendingDelete | None:
        """Send the oldest due scheduled delete to StreamStack (once across replicas).

        Audited as the requester's ``delete`` (source ``scheduler``); the outcome goes
        to the channel through the outbox. Returns the delete that ran, or None.
        """
        if self.undo is None:
            return None
        pending = await self.undo.store.claim_due(self.clock())
        if pending is None:
            return None
        actor = Actor(
            user_id=pending.requested_by,
            source="scheduler",
            requested_at=self.clock(),
            channel_id=pending.channel_id,
        )
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "video", pending.media_uuid, {"pending": pending.id})
        outcome, message = "ok", ""
        frozen = None
        if self.governance is not None:
            decision = await self.governance.check(None, "delete", actor)
            if isinstance(decision, Frozen):  # a freeze began during the undo window
                frozen = await self.governance.refuse(
                    trail, decision, "delete", None, pending.media_uuid, target
                )
                outcome, message = "failed", str(frozen)
        if frozen is None:
            try:
                await self._client.delete_media(pending.media_uuid)
            except (ProviderError, UserFacingError) as exc:
                outcome, message = "failed", str(getattr(exc, "message", exc))
        now = self.clock()
        await self.undo.store.finish(pending.id, DONE if outcome == "ok" else FAILED, message, now)
        if frozen is None:  # a freeze refusal was audited by governance already
            await trail.record("delete", "ok" if outcome == "ok" else "failed", target, message)
        result = DeleteResult(
            uuid=pending.media_uuid,
            title=pending.title,
            requested_by=pending.requested_by,
            outcome=outcome,
            message=message,
            requested_at=pending.due_at - self.undo.window,
            at=now,
        )
        await self.undo.outbox.enqueue(pending.channel_id, result, now)
        return pending

    async def may_upload(self, actor: Actor) -> None:
        """Refuse (and audit) before a form opens when the actor may not upload videos."""
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "media.upload", "upload", Target(PROVIDER, "video"))

    async def import_url(self, actor: Actor, url: str, title_words: list[str]) -> Imported:
        """``/media upload``: import a video from a public URL (audited without the query).

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
            ProviderError: StreamStack refused (audited as failed).
        """
        url = check_source_url(url)
        trail = self.gate.trail(actor)
        shown = display_url(url)
        target = Target(PROVIDER, "video", None, {"source": shown})
        await self.gate.check(trail, "media.upload", "upload", target)
        title = check_title(title_words, title_from_url(url))
        target = Target(PROVIDER, "video", None, {"source": shown, "title": title})
        try:
            media = await self._client.upload_from_url(title=title, url=url)
        except ProviderError as exc:
            await trail.record("upload", "failed", target, exc.message)
            raise
        await trail.record("upload", "ok", Target(PROVIDER, "video", media.uuid, target.params))
        return Imported(media, actor.user_id, shown)

    async def presign(
        self, actor: Actor, filename: str, title_words: list[str]
    ) -> tuple[PresignedUpload, str]:
        """``/media presign``: a video and a direct-upload target for it, and its title.

        The returned upload URL is a capability; only the requester should see it.

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
            ProviderError: StreamStack refused (audited as failed).
        """
        trail = self.gate.trail(actor)
        target = Target(PROVIDER, "video", None, {"filename": filename, "mode": "presign"})
        await self.gate.check(trail, "media.upload", "upload", target)
        title = check_title(title_words, filename.rsplit(".", 1)[0] or filename)
        content_type = content_type_for(filename)
        params = {"filename": filename, "title": title, "mode": "presign"}
        target = Target(PROVIDER, "video", None, params)
        try:
            upload = await self._client.presign_upload(
                title=title, filename=filename, content_type=content_type
            )
        except ProviderError as exc:
            await trail.record("upload", "failed", target, exc.message)
            raise
        await trail.record("upload", "ok", Target(PROVIDER, "video", upload.uuid, params))
        return upload, title
