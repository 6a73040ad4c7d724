"""Streampixel client: projects, live user counts, build upload and distribution.

Streampixel authenticates with a user id plus an API key. POST bodies carry
``apiKey`` and ``userId``; the GET endpoints take them as the query parameters
``userId`` and (all lowercase) ``apikey`` -- so the key is part of request URLs,
and both its raw and URL-encoded forms are registered with :mod:`bot.redact`.

Every error body is ``{"message": "..."}``. A 429 carries no ``Retry-After``
header; its message says "Try again in 2 minutes", so the wait is read from
the words and defaults to the documented 120 s.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from bot.errors import Forbidden, ProviderError, ProviderNotFound, ProviderUnavailable
from bot.providers._cache import ReadCache
from bot.providers._http import ProviderHTTP, RetryPolicy, Sleep, error_for_status, make_client
from bot.providers.streampixel_models import (
    DistributeReply,
    FileItem,
    ProjectsReply,
    TestWebhookReply,
    UploadReply,
    UserStatsReply,
)
from bot.redact import redact
from bot.settings import Settings

PROVIDER = "streampixel"

_ReplyT = TypeVar("_ReplyT", bound=BaseModel)
_ParsedT = TypeVar("_ParsedT")

#: The documented rate limit on upload and distribute: 1 request / 2 min / user.
RATE_LIMIT_SECONDS = 120.0

_WAIT_WORDS = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(second|sec|minute|min)", re.IGNORECASE)


@dataclass(frozen=True)
class Project:
    """One project from ``projects-status``."""

    id: str
    name: str
    enabled: bool
    subscription_status: str


@dataclass(frozen=True)
class UserStats:
    """Live and queued viewer counts of one project."""

    live_users: int
    queued_users: int


@dataclass(frozen=True)
class UploadResult:
    """A build accepted by the pipeline; follow it by webhooks."""

    upload_id: str
    message: str


@dataclass(frozen=True)
class DistributeResult:
    """Distribution was triggered (not completed) for ``upload_id``."""

    upload_id: str
    message: str
    region: str | None = None


@dataclass(frozen=True)
class ProjectFile:
    """A processed build as ``GET /projects/{id}`` lists it in ``files`` (SP-getproj).

    Attributes:
        status: ``"Approved"`` or ``"Reject"``, as Streampixel spells them.
        url: the build's file URL (approved builds).
        date: when Streampixel dated the file, if it said.
    """

    upload_id: str
    status: str
    url: str | None
    date: datetime | None
    objection: str | None


@dataclass(frozen=True)
class WebhookTestResult:
    """What happened when Streampixel sent a ``webhook.test`` event.

    Attributes:
        delivered: the receiver answered 2xx.
        message: Streampixel's words.
        status_code: the receiver's HTTP status, 0 when it could not be reached.
    """

    delivered: bool
    message: str
    status_code: int


def retry_after_from(message: str) -> float:
    """Seconds to wait, read from a 429 message ("Try again in 2 minutes")."""
    match = _WAIT_WORDS.search(message)
    if match is None:
        return RATE_LIMIT_SECONDS
    amount = float(match.group(1))
    return amount * 60 if match.group(2).lower().startswith("min") else amount


def secret_forms(api_key: str) -> tuple[str, ...]:
    """The key as it may appear in text: raw, and as encoded in a query string."""
    encoded = str(httpx.QueryParams({"k": api_key}))[2:]
    return tuple(dict.fromkeys((api_key, encoded, quote(api_key, safe=""))))


class StreampixelClient:
    """Async client of the Streampixel REST API.

    Args:
        client: the long-lived ``httpx.AsyncClient``; its ``base_url`` ends in
            ``/pixelStripeApi``.
        api_key: the account's API key.
        user_id: the account's user id (24 hex characters).
        retry: how idempotent reads are retried.
        sleep: injectable for tests.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: SecretStr | str,
        user_id: str,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        cache: ReadCache | None = None,
    ) -> None:
        self._cache = cache or ReadCache(0)
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.user_id = user_id
        self._secrets = secret_forms(self._api_key.get_secret_value())
        self._http = ProviderHTTP(PROVIDER, client, secrets=self._secrets, retry=retry, sleep=sleep)

    def __repr__(self) -> str:
        base_url = str(self._http.client.base_url)
        return f"StreampixelClient(user_id={self.user_id!r}, base_url={base_url!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._http.client.aclose()

    async def list_projects(self) -> list[Project]:
        """Every project the account owns, enabled or not.

        Raises:
            ProviderError: e.g. ``AuthFailed`` ("Invalid User", "Unauthorized: Invalid API Key").
        """
        return list(await self._get("/projects/projects-status", self._projects))

    def _projects(self, body: dict[str, Any]) -> tuple[Project, ...]:
        reply = self._read(ProjectsReply, body)
        return tuple(
            Project(
                id=item.id,
                name=item.name,
                enabled=bool(item.status),
                subscription_status=item.subscription_status,
            )
            for item in reply.projects
        )

    async def user_stats(self, project_id: str) -> UserStats:
        """Live and queued user counts of ``project_id``.

        Raises:
            ProviderError: ``ProviderNotFound`` ("Project not found"), ``Forbidden``
                ("Access denied": not yours, or disabled), ``AuthFailed``.
        """
        return await self._get(f"/projects/userStats/{quote(project_id, safe='')}", self._stats)

    def _stats(self, body: dict[str, Any]) -> UserStats:
        reply = self._read(UserStatsReply, body)
        return UserStats(live_users=reply.live_users, queued_users=reply.queued_users)

    async def project_files(self, project_id: str) -> list[ProjectFile]:
        """The processed builds (``files``) of ``project_id`` from ``GET /projects/{id}``.

        This endpoint comes from a lower-confidence version of the docs
        (providers.md §1.2); callers treat any error as "not available".

        Raises:
            ProviderError: ``ProviderNotFound``, ``Forbidden``, ``AuthFailed``, ...
        """
        return list(await self._get(f"/projects/{quote(project_id, safe='')}", self._files))

    def _files(self, body: dict[str, Any]) -> tuple[ProjectFile, ...]:
        files = body.get("files")
        if not isinstance(files, list):
            raise self._unexpected()
        found = []
        for item in files:
            try:  # an entry without a usable id (or one no column can hold) is skipped
                file = FileItem.model_validate(item)
            except ValidationError:
                continue
            found.append(
                ProjectFile(
                    upload_id=file.upload_id,
                    status=file.status,
                    url=file.url,
                    date=file.date,
                    objection=file.objection,
                )
            )
        return tuple(found)

    async def upload(
        self, project_id: str, file_url: str, *, auto_release: bool = True
    ) -> UploadResult:
        """Queue the build at ``file_url`` (a direct ``.zip`` link). Sent once, never retried.

        Args:
            project_id: the target project.
            file_url: a direct download link to the packaged build.
            auto_release: distribute automatically once approved.

        Raises:
            ProviderError: ``RateLimited`` (1 upload / 2 min / user), ``InvalidRequest``, ...
        """
        body = await self._post(
            "/projects/upload-file",
            {"projectId": project_id, "fileUrl": file_url, "autoRelease": auto_release},
        )
        reply = self._read(UploadReply, body)
        return UploadResult(upload_id=reply.upload_id, message=reply.message)

    async def distribute(self, project_id: str, upload_id: str) -> DistributeResult:
        """Release an approved build (or an older one: rollback). Sent once, never retried.

        Raises:
            ProviderError: ``RateLimited``, ``ProviderNotFound`` ("File not found in
                project"), ``InvalidRequest`` ("File has no URL": still processing), ...
        """
        body = await self._post(
            "/projects/distribute-file", {"projectId": project_id, "uploadId": upload_id}
        )
        reply = self._read(DistributeReply, body)
        return DistributeResult(
            upload_id=reply.upload_id or upload_id, message=reply.message, region=reply.region
        )

    async def test_webhook(self, project_id: str) -> WebhookTestResult:
        """Ask Streampixel to send ``webhook.test`` to the project's webhook URL.

        Sent once: every attempt makes a delivery.

        Raises:
            ProviderError: ``ProviderNotFound`` ("No webhook URL configured"), ...
        """
        body = await self._post("/projects/test-webhook", {"projectId": project_id})
        reply = self._read(TestWebhookReply, body)
        return WebhookTestResult(
            delivered=bool(reply.success), message=reply.message, status_code=reply.status_code
        )

    async def _get(self, path: str, parse: Callable[[dict[str, Any]], _ParsedT]) -> _ParsedT:
        """``GET path``, parsed by ``parse``; the parsed (immutable) value is what is cached."""
        params = {"userId": self.user_id, "apikey": self._api_key.get_secret_value()}

        async def load() -> _ParsedT:
            response = await self._http.send(
                "GET", path, idempotent=True, params=params, error_from=self._error_from
            )
            return parse(self._json(response))

        parsed: _ParsedT = await self._cache.get(path, load)
        return parsed

    async def _post(self, path: str, fields: dict[str, Any]) -> Any:
        payload = {"apiKey": self._api_key.get_secret_value(), "userId": self.user_id, **fields}
        response = await self._http.send(
            "POST", path, idempotent=False, json=payload, error_from=self._error_from
        )
        return self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            raise self._unexpected() from None
        if not isinstance(body, dict):
            raise self._unexpected()
        return body

    def _read(self, model: type[_ReplyT], body: Any) -> _ReplyT:
        """``body`` as ``model``; a reply that does not fit is "unexpected"."""
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise self._unexpected() from exc

    def _unexpected(self) -> ProviderUnavailable:
        return ProviderUnavailable(PROVIDER, "unexpected reply")

    def _error_from(self, response: httpx.Response) -> ProviderError:
        """Build the shared error from Streampixel's ``{"message": ...}`` body."""
        message = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        message = redact(
            message or response.reason_phrase or f"HTTP {response.status_code}", self._secrets
        )
        retry_after = retry_after_from(message) if response.status_code == 429 else None
        return error_for_status(PROVIDER, response.status_code, message, retry_after=retry_after)


def from_settings(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> StreampixelClient | None:
    """A client for the configured account, or ``None`` when Streampixel is not configured.

    Args:
        settings: uses ``STREAMPIXEL_API_KEY``, ``STREAMPIXEL_USER_ID``,
            ``STREAMPIXEL_BASE_URL``, ``STREAMOPS_HTTP_TIMEOUT`` and
            ``STREAMOPS_HTTP_MAX_CONNECTIONS``.
        transport: an alternative transport (tests).
        retry: how idempotent reads are retried.
        sleep: injectable for tests.
    """
    api_key = settings.streampixel_api_key
    if api_key is None or not api_key.get_secret_value() or not settings.streampixel_user_id:
        return None
    client = make_client(
        settings.streampixel_base_url,
        timeout=settings.http_timeout,
        max_connections=settings.http_max_connections,
        transport=transport,
    )
    return StreampixelClient(
        client,
        api_key=api_key,
        user_id=settings.streampixel_user_id,
        retry=retry,
        sleep=sleep,
        # "Access denied" / "Project not found" are stable answers: cached like values
        cache=ReadCache(settings.provider_cache_seconds, keep_errors=(Forbidden, ProviderNotFound)),
    )
