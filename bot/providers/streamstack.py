"""StreamStack client: media, uploads, statistics and the embed player.

StreamStack (providers.md §2) authenticates with ``Authorization: Bearer``
and signals errors by HTTP status (401, 403, 404, 413, 422, 429, 500) with a
JSON ``{"message": ..., "errors": {...}}`` body (S9). Reads are retried by
:class:`~bot.providers._http.ProviderHTTP`; delete and the uploads are sent
once. The bearer header is added per API call, never as a client default, so
the presigned PUT to object storage cannot carry our key to another host.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic import SecretStr

from bot.errors import ProviderError, ProviderUnavailable
from bot.providers._http import (
    ProviderHTTP,
    RetryPolicy,
    Sleep,
    error_for_status,
    make_client,
    parse_retry_after,
)
from bot.providers.streamstack_models import (
    Embed,
    MalformedReply,
    Media,
    MediaPage,
    Period,
    PresignedUpload,
    VideoStats,
    parse_media,
    parse_media_page,
    parse_presign,
    parse_stats,
)
from bot.redact import protect_transient, redact
from bot.settings import Settings

PROVIDER = "streamstack"
DEFAULT_BASE_URL = "https://streamstack.it"
MAX_PER_PAGE = 100
#: Safety bound for :meth:`StreamStackClient.list_all` against a server whose meta never ends.
MAX_PAGES = 1000

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MAX_MESSAGE = 300


def _clean(message: str, secrets: tuple[str, ...]) -> str:
    """The provider's words without secrets or URLs, kept short."""
    text = _URL.sub("<url>", redact(message, secrets)).strip()
    return text[:_MAX_MESSAGE] or "no message"


def _field_errors(errors: Any) -> str:
    if not isinstance(errors, dict):
        return ""
    parts = []
    for name, problems in errors.items():
        items = problems if isinstance(problems, list) else [problems]
        parts.append(f"{name}: " + " ".join(str(p) for p in items))
    return "; ".join(parts)


def error_from_response(
    response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> ProviderError:
    """Translate a non-2xx StreamStack reply to the shared error hierarchy.

    The message is the body's ``message`` (plus the 422 ``errors`` by field),
    else the reason phrase; a 429 carries ``Retry-After`` as ``retry_after``.

    Args:
        response: the failed response.
        secrets: values to mask should the provider echo them.
    """
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        raw = body.get("message") or body.get("error")
        message = raw if isinstance(raw, str) else ""
        details = _field_errors(body.get("errors"))
        if details:
            message = f"{message} ({details})" if message else details
    if not message:
        message = response.reason_phrase or f"HTTP {response.status_code}"
    return error_for_status(
        PROVIDER,
        response.status_code,
        _clean(message, secrets),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


def player_base_from(api_base_url: str) -> str:
    """The player's base (``<scheme>://<host>/player``) for an API base URL.

    StreamStack serves its player on the API host (``https://streamstack.it``),
    so a base URL pointing at the simulator yields the simulator's player.
    """
    parts = urlsplit(api_base_url)
    return f"{parts.scheme}://{parts.netloc}/player"


def embed_for(
    uuid: str,
    *,
    player_base: str = DEFAULT_BASE_URL + "/player",
    autoplay: bool = False,
    loop: bool = False,
    mute: bool = False,
    width: int = 854,
    height: int = 480,
) -> Embed:
    """The player URL and iframe snippet of a video (pure).

    Args:
        uuid: the video's uuid.
        player_base: ``https://streamstack.it/player`` or the simulator's.
        autoplay: add ``autoplay=1``.
        loop: add ``loop=1``.
        mute: add ``mute=1``.
        width: iframe width in pixels.
        height: iframe height in pixels.

    Returns:
        The URL (``{player_base}/{uuid}?autoplay=1&...``) and the HTML snippet.
    """
    flags = {"autoplay": autoplay, "loop": loop, "mute": mute}
    query = urlencode({name: "1" for name, on in flags.items() if on})
    url = f"{player_base.rstrip('/')}/{quote(uuid, safe='')}" + (f"?{query}" if query else "")
    iframe = (
        f'<iframe src="{html.escape(url, quote=True)}" width="{int(width)}" '
        f'height="{int(height)}" frameborder="0" allowfullscreen '
        'allow="encrypted-media; autoplay"></iframe>'
    )
    return Embed(url=url, iframe=iframe)


class StreamStackClient:
    """Async StreamStack API client on one injected ``httpx.AsyncClient``.

    Args:
        client: long-lived client whose ``base_url`` is the API base
            (``https://streamstack.it`` or a simulator's ``http://127.0.0.1:PORT``).
        api_key: the tenant's API key (sent as a bearer token, never logged).
        retry: retry policy for reads.
        sleep: injectable for tests (backoff and ``Retry-After`` waits).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: SecretStr | str,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._secrets = (self._key.get_secret_value(),)
        self._http = ProviderHTTP(PROVIDER, client, secrets=self._secrets, retry=retry, sleep=sleep)
        self._client = client
        self.player_base = player_base_from(str(client.base_url))

    def __repr__(self) -> str:
        return f"StreamStackClient(base_url={str(self._client.base_url)!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._key.get_secret_value()}",
            "Accept": "application/json",
        }

    def _error(self, response: httpx.Response) -> ProviderError:
        return error_from_response(response, secrets=self._secrets)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        return await self._http.send(
            method,
            path,
            idempotent=idempotent,
            params=params,
            json=json,
            headers=self._headers(),
            error_from=self._error,
        )

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProviderUnavailable(PROVIDER, "reply is not JSON") from None

    @staticmethod
    def _media_path(uuid: str) -> str:
        return f"/api/v1/media/{quote(uuid, safe='')}"

    async def list_media(self, *, page: int = 1, per_page: int = 20) -> MediaPage:
        """One page of the tenant's videos, newest first.

        Args:
            page: 1-based page number.
            per_page: page size (StreamStack allows up to 100).

        Raises:
            ProviderError: auth failure, invalid paging, rate limit or outage.
        """
        response = await self._call(
            "GET",
            "/api/v1/media",
            idempotent=True,
            params={"page": page, "per_page": per_page},
        )
        try:
            return parse_media_page(self._json(response), page=page, per_page=per_page)
        except MalformedReply as exc:
            raise ProviderUnavailable(PROVIDER, str(exc)) from None

    async def iter_media(self, *, per_page: int = MAX_PER_PAGE) -> AsyncIterator[Media]:
        """Every video of the tenant, walking all pages.

        Stops at the last page the meta names, at an empty page, or after
        :data:`MAX_PAGES` pages, whichever comes first.
        """
        page = 1
        while page <= MAX_PAGES:
            result = await self.list_media(page=page, per_page=per_page)
            for media in result.items:
                yield media
            if not result.items or not result.has_next:
                return
            page += 1

    async def list_all(self, *, per_page: int = MAX_PER_PAGE) -> list[Media]:
        """Every video of the tenant (all pages), newest first.

        Raises:
            ProviderError: as :meth:`list_media`.
        """
        return [media async for media in self.iter_media(per_page=per_page)]

    async def get_media(self, uuid: str) -> Media:
        """The details of one video.

        Raises:
            ProviderNotFound: no such video.
            Forbidden: the video belongs to another tenant.
        """
        response = await self._call("GET", self._media_path(uuid), idempotent=True)
        try:
            return parse_media(self._json(response))
        except MalformedReply as exc:
            raise ProviderUnavailable(PROVIDER, str(exc)) from None

    async def delete_media(self, uuid: str) -> None:
        """Permanently delete a video with its renditions (sent once, never retried).

        Raises:
            ProviderNotFound: no such video (or already deleted).
            Forbidden: the video belongs to another tenant.
        """
        await self._call("DELETE", self._media_path(uuid), idempotent=False)

    async def presign_upload(
        self, *, title: str, filename: str, content_type: str = "video/mp4"
    ) -> PresignedUpload:
        """Create a video and a presigned direct-upload target for its file.

        Raises:
            InvalidRequest: a field was rejected (422) or the file is too large (413).
        """
        response = await self._call(
            "POST",
            "/api/v1/upload/presign",
            idempotent=False,
            json={"title": title, "filename": filename, "content_type": content_type},
        )
        try:
            return parse_presign(self._json(response))
        except MalformedReply as exc:
            raise ProviderUnavailable(PROVIDER, str(exc)) from None

    async def upload_bytes(self, target: PresignedUpload, content: bytes) -> None:
        """Send a file's bytes to a presigned target (once; no API key is sent).

        Raises:
            InvalidRequest: the target refused the file (413 too large).
            ProviderError: the target expired or failed.
        """
        await self.upload_stream(target, _once(content), size=len(content))

    async def upload_stream(
        self, target: PresignedUpload, chunks: AsyncIterable[bytes], *, size: int | None
    ) -> None:
        """Stream a file to a presigned target chunk by chunk, never holding it whole.

        Args:
            chunks: the file's bytes, in order (read as they are sent).
            size: the file's length, sent as Content-Length (object stores want it);
                None sends the body chunked.

        Raises:
            InvalidRequest: the target refused the file (413 too large).
            ProviderError: the target expired or failed.
        """
        protect_transient(urlsplit(target.upload_url).query or None)
        headers = dict(target.headers)
        if size is not None:
            headers["content-length"] = str(size)
        request = self._client.build_request(
            target.method, target.upload_url, content=chunks, headers=headers
        )
        request.headers.pop("authorization", None)
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException:
            raise ProviderUnavailable(PROVIDER, "upload timed out") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(
                PROVIDER, f"could not connect ({type(exc).__name__})"
            ) from None
        if not response.is_success:
            raise self._error(response)

    async def upload_from_url(self, *, title: str, url: str) -> Media:
        """Import a video from a public URL; transcoding starts on its own.

        Raises:
            InvalidRequest: a field was rejected (422) or the file is too large (413).
        """
        response = await self._call(
            "POST", "/api/v1/upload/url", idempotent=False, json={"title": title, "url": url}
        )
        try:
            return parse_media(self._json(response))
        except MalformedReply as exc:
            raise ProviderUnavailable(PROVIDER, str(exc)) from None

    async def stats(self, uuid: str, period: Period | str = "7d") -> VideoStats:
        """Viewing statistics of a video over one of the ten periods.

        Args:
            uuid: the video.
            period: one of :data:`~bot.providers.streamstack_models.PERIODS`;
                StreamStack answers 422 for any other value.

        Raises:
            InvalidRequest: unknown period (422).
            ProviderNotFound: no such video.
        """
        response = await self._call(
            "GET", self._media_path(uuid) + "/stats", idempotent=True, params={"period": period}
        )
        try:
            return parse_stats(self._json(response), uuid=uuid, period=str(period))
        except MalformedReply as exc:
            raise ProviderUnavailable(PROVIDER, str(exc)) from None

    def embed(
        self,
        uuid: str,
        *,
        autoplay: bool = False,
        loop: bool = False,
        mute: bool = False,
        width: int = 854,
        height: int = 480,
    ) -> Embed:
        """The player URL and iframe snippet of a video on this client's host (pure)."""
        return embed_for(
            uuid,
            player_base=self.player_base,
            autoplay=autoplay,
            loop=loop,
            mute=mute,
            width=width,
            height=height,
        )


def from_settings(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> StreamStackClient | None:
    """Build the client from settings, or ``None`` when no API key is configured.

    Args:
        settings: uses ``streamstack_api_key``, ``streamstack_base_url``,
            ``http_timeout`` and ``http_max_connections``.
        transport: optional transport (tests).
        retry: optional retry policy.
        sleep: injectable for tests.
    """
    if settings.streamstack_api_key is None or not settings.streamstack_api_key.get_secret_value():
        return None
    client = make_client(
        settings.streamstack_base_url,
        timeout=settings.http_timeout,
        max_connections=settings.http_max_connections,
        headers={"Accept": "application/json"},
        transport=transport,
    )
    return StreamStackClient(client, api_key=settings.streamstack_api_key, retry=retry, sleep=sleep)
