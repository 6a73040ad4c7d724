"""StreamAPI client: signed calls over one injected ``httpx.AsyncClient``.

Every request carries ``key``, ``rid`` and ``sig`` (see :mod:`.streamapi_sign`).
Because the server refuses a ``rid`` not greater than the last one it accepted,
each attempt is signed afresh with a new id from a :class:`RidSource`, and one
client sends one request at a time: two requests in flight could arrive out of
order, and the later id would then be refused (code 203).

Retries live here rather than in :class:`ProviderHTTP`, which would resend the
same, already used ``rid``. Reads are retried on timeouts, connection errors,
5xx and code 100 (Unknown Error) with backoff and jitter, wait out a 429 that
says how long, and are retried once on 203 (the request was refused before it
had any effect; a replica without the shared database mark, or clock skew, can
cause it). ``create_session`` is sent exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from xml.etree.ElementTree import Element

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
    retrying,
)
from bot.providers.streamapi_models import (
    FME_RTMP_BASE,
    HostIds,
    LiveSession,
    Session,
    Theme,
    Video,
)
from bot.providers.streamapi_rid import ClockRidSource, RidSource
from bot.providers.streamapi_sign import signature
from bot.providers.streamapi_xml import (
    PROVIDER,
    check,
    error_for_code,
    host_ids,
    live_session,
    live_sessions,
    parse_reply,
    reply_code,
    themes,
    videos,
)
from bot.settings import Settings

__all__ = [
    "HostIds",
    "LiveSession",
    "Session",
    "StreamAPIClient",
    "Theme",
    "Video",
    "from_settings",
]


def _transient(error: ProviderError) -> bool:
    """A StreamAPI failure worth retrying: no answer, a 5xx, or code 100 (Unknown Error)."""
    transient = error.status is None or error.status >= 500 or error.code == 100
    return isinstance(error, ProviderUnavailable) and transient


def _ms(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes sent to StreamAPI must be timezone-aware")
    return str(int(moment.timestamp() * 1000))


class StreamAPIClient:
    """The StreamAPI HTTP API (``…/service``).

    Args:
        client: the long-lived ``httpx.AsyncClient`` whose base URL ends in ``/service``.
        api_key: the account's API key.
        secret: the account's secret key (signs requests; never sent).
        rids: where request ids come from; defaults to an in-process :class:`ClockRidSource`.
            Pass ``storage.streamapi_rid.DatabaseRidSource`` to survive restarts and replicas.
        retry: the retry policy for reads.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str | SecretStr,
        secret: str | SecretStr,
        rids: RidSource | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        self._secrets = (self._key.get_secret_value(), self._secret.get_secret_value())
        self._rids: RidSource = rids or ClockRidSource()
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._in_flight = asyncio.Lock()
        # One attempt per ProviderHTTP.send: retrying needs a fresh rid and sig.
        self._http = ProviderHTTP(
            PROVIDER, client, secrets=self._secrets, retry=RetryPolicy(attempts=1), sleep=sleep
        )

    def __repr__(self) -> str:
        return f"StreamAPIClient(base_url={str(self._http.client.base_url)!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._http.client.aclose()

    # -- calls ---------------------------------------------------------------------------

    async def create_session(
        self,
        *,
        site_user_id: str | int | None = None,
        username: str | None = None,
        fme_key: str | None = None,
        is_video_private: bool | None = None,
    ) -> Session:
        """Create a session (``POST /session/create``); sent once, never retried.

        Args:
            site_user_id: digits; becomes the public host id instead of a generated one.
            username: letters and digits; shown in the user list and video overlay.
            fme_key: letters and digits; lets an external encoder publish, see
                :attr:`Session.encoder_url`.
            is_video_private: only authenticated viewers may watch.

        Raises:
            ProviderError: e.g. ``InvalidRequest`` (code 1), ``Forbidden`` (201: the
                ``site_user_id`` belongs to another API key), ``AuthFailed`` (200/202).
        """
        params: dict[str, str] = {}
        if site_user_id is not None:
            params["site_user_id"] = str(site_user_id)
        if username is not None:
            params["username"] = username
        if fme_key is not None:
            params["fme_key"] = fme_key
        if is_video_private is not None:
            params["is_video_private"] = "true" if is_video_private else "false"
        root = await self._call("POST", "/session/create", params, idempotent=False)
        ids = host_ids(root)
        encoder = f"{FME_RTMP_BASE}/{ids.public_hostid}-{fme_key}" if fme_key else None
        return Session(ids.private_hostid, ids.public_hostid, encoder_url=encoder)

    async def live_session(self, public_hostid: str) -> LiveSession:
        """Live state of one host (``GET /session/live``).

        Raises:
            ProviderNotFound: code 8, no such host.
        """
        root = await self._call("GET", "/session/live", {"public_hostid": public_hostid})
        return live_session(root)

    async def live_sessions(self) -> list[LiveSession]:
        """Every session streaming now (``GET /session/live/list``).

        A session may take up to 60 s after it starts to appear here.
        """
        return live_sessions(await self._call("GET", "/session/live/list", {}))

    async def public_hostid(self, private_hostid: str) -> HostIds:
        """Look up the public id of a private host id (``GET /host/id/public``).

        Raises:
            ProviderNotFound: code 46 (no session) or 8 (no user).
            Forbidden: code 201, the host was created by another API key.
        """
        params = {"private_hostid": private_hostid}
        return host_ids(await self._call("GET", "/host/id/public", params))

    async def private_hostid(self, public_hostid: str) -> HostIds:
        """Look up the private id of a public host id (``GET /host/id/private``).

        Raises:
            ProviderNotFound: code 8 (no user) or 46 (no session).
            Forbidden: code 201, the host was created by another API key.
        """
        params = {"public_hostid": public_hostid}
        return host_ids(await self._call("GET", "/host/id/private", params))

    async def videos(
        self,
        *,
        public_hostid: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Video]:
        """Recordings, optionally of one host and created within ``[start, end]``.

        Args:
            public_hostid: only this host's recordings.
            start: earliest creation date (timezone-aware).
            end: latest creation date (timezone-aware).
        """
        params: dict[str, str] = {}
        if public_hostid is not None:
            params["public_hostid"] = public_hostid
        if start is not None:
            params["start_date"] = _ms(start)
        if end is not None:
            params["end_date"] = _ms(end)
        return videos(await self._call("GET", "/video/list", params))

    async def themes(self) -> list[Theme]:
        """The player layout themes (``GET /theme/list``)."""
        return themes(await self._call("GET", "/theme/list", {}))

    # -- transport -----------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, params: Mapping[str, str], *, idempotent: bool = True
    ) -> Element:
        async for attempt in retrying(
            self._retry, idempotent=idempotent, sleep=self._sleep, transient=_transient
        ):
            with attempt:
                try:
                    return await self._attempt(method, path, params, idempotent=idempotent)
                except ProviderError as error:
                    # 203: the request id arrived out of order and nothing happened;
                    # a read is sent once more at once, signed with a fresh id.
                    if not idempotent or error.code != 203:
                        raise
                return await self._attempt(method, path, params, idempotent=idempotent)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, str], *, idempotent: bool
    ) -> Element:
        key = self._key.get_secret_value()
        async with self._in_flight:
            rid = await self._rids.next_rid(key)
            signed = {**params, "key": key}
            signed["sig"] = signature(signed, self._secret.get_secret_value(), rid)
            signed["rid"] = str(rid)
            response = await self._http.send(
                method,
                path,
                idempotent=idempotent,
                params=signed if method == "GET" else None,
                data=signed if method != "GET" else None,
                error_from=self._error_from,
            )
        root = parse_reply(response.content, status=response.status_code)
        return check(root, status=response.status_code, secrets=self._secrets)

    def _error_from(self, response: httpx.Response) -> ProviderError:
        """A non-2xx reply: its XML ``<code>``/``<msg>`` if it has one, else its status."""
        try:
            root = parse_reply(response.content, status=response.status_code)
            code = reply_code(root, status=response.status_code)
        except ProviderError:
            code = 0
        if code == 0:
            return error_for_status(
                PROVIDER,
                response.status_code,
                response.reason_phrase or f"HTTP {response.status_code}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        return error_for_code(
            code, root.findtext("msg"), status=response.status_code, secrets=self._secrets
        )


def from_settings(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    rids: RidSource | None = None,
    sleep: Sleep = asyncio.sleep,
) -> StreamAPIClient | None:
    """Build the client from settings, or None when ``STREAMAPI_KEY``/``_SECRET`` are unset.

    Args:
        settings: the application settings.
        transport: an httpx transport (tests).
        rids: the request-id source; pass a ``DatabaseRidSource`` in production.
        sleep: injectable for tests.
    """
    if settings.streamapi_key is None or settings.streamapi_secret is None:
        return None
    client = make_client(
        settings.streamapi_base_url,
        timeout=settings.http_timeout,
        max_connections=settings.http_max_connections,
        transport=transport,
    )
    return StreamAPIClient(
        client,
        api_key=settings.streamapi_key,
        secret=settings.streamapi_secret,
        rids=rids,
        sleep=sleep,
    )
