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
from bot.services.actor import AuditTrail, Target
from bot.services.media import check_title, content_type_for
from bot.slack_files import SlackFile, stream_file

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
    """Moves video files from Slack to StreamStack.

    Args:
        client: the StreamStack client, or None when StreamStack is not configured.
        http: the client files are read from Slack with.
        token: the bot token (``files:read``).
    """

    def __init__(self, client: StreamStackClient | None, http: httpx.AsyncClient, token: str):
        self._client_or_none = client
        self._http = http
        self._token = token

    async def upload_from_slack(
        self, file: SlackFile, title: str, trail: AuditTrail, progress: Progress
    ) -> Transferred:
        """Create the video, stream the file into it, and audit the outcome.

        Raises:
            UserFacingError: StreamStack is not configured, the file is no video, or
                Slack refused the download (audited as ``failed`` once a video exists).
            ProviderError: StreamStack refused or failed (audited as ``failed``).
        """
        client = self._client_or_none
        if client is None:
            raise UserFacingError("StreamStack is not configured on this bot (STREAMSTACK_API_KEY)")
        if not file.is_video:
            raise UserFacingError(f"{file.label} is not a video file")
        title = check_title(title.split(), file.title or file.name)
        name = file.name or f"{file.id}.mp4"
        params = {"title": title, "filename": name, "mode": "slack", "slack_file": file.id}
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
