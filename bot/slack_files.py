"""Files people share in Slack, read back by the bot (the ``files:read`` scope).

A file's bytes live behind its ``url_private``, readable with the bot token.
:func:`stream_file` yields them chunk by chunk so a 1 GB video passes through
the bot without ever being held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import UserFacingError

#: Bytes read from Slack per chunk (and so at most held per transfer).
CHUNK_BYTES = 1 << 20


class SlackFile(BaseModel):
    """The fields of a Slack file object the bot uses."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=1000)
    title: str = Field(default="", max_length=1000)
    mimetype: str = Field(default="", max_length=200)
    size: int | None = Field(default=None, ge=0)
    url_private: str = Field(default="", max_length=2000)

    @property
    def is_video(self) -> bool:
        """True for a video file (by MIME type, else by extension)."""
        if self.mimetype.startswith("video/"):
            return True
        return self.name.lower().rsplit(".", 1)[-1] in {"mp4", "mov", "m4v", "webm", "mkv", "avi"}

    @property
    def label(self) -> str:
        """How to name the file to a person."""
        return self.title or self.name or self.id


def token_may_go_to(url: str, api_url: str) -> bool:
    """Whether the bot token may be sent to ``url``: Slack's own hosts over https, or the
    host of the Web API the bot is configured with (a sandbox or a test's fake Slack)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return True
    return bool(host) and host == (urlsplit(api_url).hostname or "").lower()


def files_of(message: Mapping[str, Any]) -> list[SlackFile]:
    """The files attached to a Slack message payload (malformed entries skipped)."""
    found: list[SlackFile] = []
    for raw in message.get("files") or []:
        if isinstance(raw, Mapping):
            try:
                found.append(SlackFile.model_validate(raw))
            except ValueError:
                continue
    return found


def first_video(message: Mapping[str, Any]) -> SlackFile:
    """The first video attached to ``message``.

    Raises:
        UserFacingError: the message carries no video file.
    """
    for file in files_of(message):
        if file.is_video:
            return file
    raise UserFacingError(
        "That message has no video file. Use *Upload to StreamStack* on a message with a video."
    )


async def stream_file(
    http: httpx.AsyncClient, file: SlackFile, token: str, *, chunk_bytes: int = CHUNK_BYTES
) -> AsyncIterator[bytes]:
    """The file's bytes from ``url_private``, ``chunk_bytes`` at a time.

    Raises:
        UserFacingError: Slack refused or failed the download (the reason in words).
    """
    if not file.url_private:
        raise UserFacingError(f"Slack gave no download link for {file.label}")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with http.stream("GET", file.url_private, headers=headers) as response:
            if response.status_code in (401, 403):
                raise UserFacingError(
                    "Slack refused to hand over the file: the bot needs the `files:read` scope "
                    "and access to the channel it was shared in"
                )
            if not response.is_success:
                raise UserFacingError(
                    f"Slack could not send the file (HTTP {response.status_code})"
                )
            async for chunk in response.aiter_bytes(chunk_bytes):
                yield chunk
    except httpx.TransportError as exc:
        raise UserFacingError(
            f"Reading the file from Slack failed ({type(exc).__name__})"
        ) from None
