"""Upload a video that someone already has in Slack to StreamStack, streamed end to end.

The file is read from Slack (``url_private``, bot token) and written to a
presigned StreamStack target chunk by chunk, so memory stays flat whatever
the file's size. Progress is reported through a callback (the handler edits a
thread reply); the normal StreamStack webhooks then tell the channel how
transcoding goes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from bot.errors import ProviderError, UserFacingError
from bot.providers.streamstack import PROVIDER, StreamStackClient
from bot.services.actor import Actor, Gate, Target
from bot.services.media import check_title, content_type_for
from bot.slack_files import SlackFile, stream_file, token_may_go_to

#: Called with (bytes sent so far, total bytes or None).
Progress = Callable[[int, int | None], Awaitable[None]]

#: Progress is reported at most this often, as a fraction of the file.
PROGRESS_STEP = 0.25


@dataclass(frozen=True)
class Transferred:
    """A finished transfer: the new video's uuid and how many bytes went across."""

    uuid: str
    title: str
    size: int


async def counted(
    chunks: AsyncIterable[bytes], total: int | None, progress: Progress
) -> AsyncIterator[bytes]:
    """Pass ``chunks`` through, reporting progress every :data:`PROGRESS_STEP` of ``total``."""
    sent = 0
    step = max(1, int(total * PROGRESS_STEP)) if total else 64 << 20
    next_report = step
    async for chunk in chunks:
        sent += len(chunk)
        yield chunk
        if sent >= next_report:
            await progress(sent, total)
            next_report = (sent // step + 1) * step


class MediaTransfer:
    """Moves video files from Slack to StreamStack (the media role; audited).

    Args:
        client: the StreamStack client, or None when StreamStack is not configured.
        gate: authorization and the audit trail.
        http: the client files are read from Slack with.
        token: the bot token (``files:read``).
        api_url: the Slack Web API base URL; besides Slack's own https hosts, the token
            is only sent to this host (a sandbox's file links).
    """

    def __init__(
        self,
        client: StreamStackClient | None,
        gate: Gate,
        http: httpx.AsyncClient,
        token: str,
        *,
        api_url: str = "https://slack.com/api/",
    ):
        self._client_or_none = client
        self.gate = gate
        self._http = http
        self._token = token
        self._api_url = api_url

    async def may_upload(self, actor: Actor) -> None:
        """Refuse early (unaudited: nothing was attempted yet) when the actor lacks the role.

        Raises:
            NotAuthorized: the actor lacks the media role.
        """
        trail = self.gate.trail(actor)
        await self.gate.check(trail, "media.upload", "upload", Target(PROVIDER), record=False)

    async def upload_from_slack(
        self, actor: Actor, file: SlackFile, title: str, progress: Progress
    ) -> Transferred:
        """Authorize, create the video, stream the file into it, and audit the outcome.

        Raises:
            NotAuthorized: the actor lacks the media role (audited).
            UserFacingError: StreamStack is not configured, the file is no video, the
                title is too long, or Slack refused the download (audited as ``failed``
                once a video exists).
            ProviderError: StreamStack refused or failed (audited as ``failed``).
        """
        trail = self.gate.trail(actor)
        name = file.name or f"{file.id}.mp4"
        params = {"filename": name, "mode": "slack", "slack_file": file.id}
        await self.gate.check(
            trail, "media.upload", "upload", Target(PROVIDER, "video", None, params)
        )
        client = self._client_or_none
        if client is None:
            raise UserFacingError("StreamStack is not configured on this bot (STREAMSTACK_API_KEY)")
        if not file.is_video:
            raise UserFacingError(f"{file.label} is not a video file")
        if not token_may_go_to(file.url_private, self._api_url):
            raise UserFacingError(f"the download link of {file.label} is not a Slack link")
        title = check_title(title.split(), file.title or file.name)
        params = {**params, "title": title}
        target = Target(PROVIDER, "video", None, params)
        try:
            upload = await client.presign_upload(
                title=title, filename=name, content_type=file.mimetype or content_type_for(name)
            )
        except ProviderError as exc:
            await trail.record("upload", "failed", target, exc.message)
            raise
        done = Target(PROVIDER, "video", upload.uuid, params)
        chunks = counted(stream_file(self._http, file, self._token), file.size, progress)
        try:
            await client.upload_stream(upload, chunks, size=file.size)
        except (ProviderError, UserFacingError) as exc:
            await trail.record("upload", "failed", done, str(exc))
            raise
        await trail.record("upload", "ok", done)
        return Transferred(upload.uuid, title, file.size or 0)
