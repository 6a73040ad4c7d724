"""StreamAPI client: signed calls over one injected ``httpx.AsyncClient``.

Every request carries ``key``, ``rid`` and ``sig`` (see :mod:`.streamapi_sign`).
StreamAPI refuses a ``rid`` not greater than the last one it accepted for the key
(code 203, "Invalid request ID value"), so each attempt is signed afresh with a new id,
and the ids must *reach* StreamAPI in order, not only be handed out in order.

Ordering across replicas. Each request is sent inside its key's *turn*
(:meth:`RidSource.turn`): the id is taken and the request signed, sent and answered
before the next request for that key may take an id. Within a process an
``asyncio.Lock`` gives the turn; across replicas on PostgreSQL,
``storage.streamapi_rid.DatabaseRidSource`` adds a transaction-scoped advisory lock
keyed by the API key. Why both, in that order: the in-process lock comes first, so
however many calls a replica has queued, only one of them holds a database
connection for the advisory lock (the pool cost is one connection per replica
while it sends). Why a lock rather than only retrying 203: with two replicas
racing, a request refused with 203 is re-sent with a fresh id that can lose the
same race again, so retries alone cannot bound the failures (the two-replica
test had 2-4 refused calls in 200 with one retry per read and none per write).
Bounds, so a hung provider cannot stall every replica: a send may take at most
``deadline`` seconds (then it fails as a timeout and the turn ends); a replica
waits at most ``wait`` for the turn (then the call fails as "busy" and nothing was
sent); and PostgreSQL ends a turn held longer than ``hold`` (a frozen replica).

Retries live here rather than in :class:`ProviderHTTP`, which would resend the
same, already used ``rid``. A 203 is re-sent at once with a fresh id, up to
:data:`RID_ATTEMPTS` sends in all, for writes (``create_session``) too: the rid
exists to make StreamAPI refuse replayed requests ("the rid prevents the replaying
of previous requests", seed ``004_…``, providers.md §3.1), which only works if a
refused request is not carried out, and providers.md §3.4 (A3, A4) places the rid
check before any of the call's own work. So a 203 proves nothing happened, and the
retry cannot create a second session. A 203 can still occur with the lock: a
request that timed out on our side and arrives late, a database mark rolled back,
SQLite run by several processes (unsupported), or another client using the key.
Reads are also retried on timeouts, connection errors, 5xx and code 100 (Unknown
Error) with backoff and jitter, and wait out a 429 that says how long; a write is
otherwise sent once (a timeout may mean it happened).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "HostIds",
    "LiveSession",
    "Session",
    "StreamAPIClient",
    "Theme",
    "Video",
    "from_settings",
    "send_deadline",
]

#: Sends of one call while StreamAPI answers 203 (each with a fresh id).
RID_ATTEMPTS = 3
#: Code 203: "Invalid request ID value" (the rid was not greater than the last one).
STALE_RID = 203


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
        deadline: the longest one send may take, answer included (the turn is held
            meanwhile, so this bounds how long a hung provider stalls other callers).
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
        deadline: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._deadline = deadline
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
        """Create a session (``POST /session/create``); re-sent only after a 203.

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
                return await self._send_until_in_order(method, path, params, idempotent)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_until_in_order(
        self, method: str, path: str, params: Mapping[str, str], idempotent: bool
    ) -> Element:
        """One call, re-sent at once with a fresh id while StreamAPI answers 203."""
        for sent in range(1, RID_ATTEMPTS + 1):
            try:
                return await self._attempt(method, path, params, idempotent=idempotent)
            except ProviderError as error:
                # 203: refused as out of order before it had any effect (module doc).
                if error.code != STALE_RID or sent == RID_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, str], *, idempotent: bool
    ) -> Element:
        key = self._key.get_secret_value()
        async with self._in_flight, contextlib.AsyncExitStack() as turn:
            try:
                rid = await turn.enter_async_context(self._rids.turn(key))
            except TimeoutError:
                raise ProviderUnavailable(
                    PROVIDER, "busy: another replica's request is taking too long"
                ) from None
            signed = {**params, "key": key}
            signed["sig"] = signature(signed, self._secret.get_secret_value(), rid)
            signed["rid"] = str(rid)
            try:
                async with asyncio.timeout(self._deadline):
                    response = await self._http.send(
                        method,
                        path,
                        idempotent=idempotent,
                        params=signed if method == "GET" else None,
                        data=signed if method != "GET" else None,
                        error_from=self._error_from,
                    )
            except TimeoutError:
                raise ProviderUnavailable(PROVIDER, "timed out") from None
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


def send_deadline(settings: Settings) -> float:
    """The longest one StreamAPI send may take: connecting plus answering, each ``http_timeout``."""
    return 2 * settings.http_timeout


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
        deadline=send_deadline(settings),
        sleep=sleep,
    )
