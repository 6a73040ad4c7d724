"""StreamStack simulator: the real API paths on a local Starlette app.

Base path: the server root. Point ``STREAMSTACK_BASE_URL`` at
``http://127.0.0.1:PORT`` and the client's requests land on the same paths
as on ``https://streamstack.it``:

- ``GET /api/v1/media?page=&per_page=`` (S2 pagination, ``per_page`` ≤ 100)
- ``GET|DELETE /api/v1/media/{uuid}`` (DELETE 204, then 404; other tenant 403)
- ``GET /api/v1/media/{uuid}/stats?period=`` (ten periods, else 422)
- ``POST /api/v1/upload/presign`` and ``POST /api/v1/upload/url`` (201)
- ``PUT /uploads/{uuid}?token=`` — the presigned target (object storage
  stand-in): stores the file and starts transcoding, which POSTs
  ``media.uploaded`` → ``media.transcoded`` → ``media.published`` (or
  ``media.failed``) to the configured webhook URL.
- ``GET /player/{uuid}`` — a minimal public player page.

Errors are ``{"message": ...}`` (422 adds ``errors``), 429 sends ``Retry-After: 1``.
"""

from __future__ import annotations

import hmac
import html
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.sandbox.streamstack_state import (
    DEMO_API_KEY,
    OTHER_TENANT_API_KEY,
    PERIODS,
    SimMedia,
    StageDelays,
    StreamStackSimulator,
    WebhookDelivery,
    sign,
)

__all__ = [
    "DEMO_API_KEY",
    "OTHER_TENANT_API_KEY",
    "StageDelays",
    "StreamStackSimulator",
    "WebhookDelivery",
    "create_app",
    "sign",
]

#: Error messages, from the documented error table (SS-docs "Error Codes").
MESSAGES = {
    401: "Invalid or missing API key",
    403: "Insufficient permissions (wrong tenant)",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Upload already received",
    413: "File too large",
    422: "The given data was invalid.",
    429: "Rate limit exceeded (30 req/s)",
    500: "Internal server error",
}


class _Fail(Exception):
    def __init__(self, status: int, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors


def _error(status: int, errors: dict[str, list[str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": MESSAGES.get(status, "Error")}
    if errors:
        body["errors"] = errors
    headers = {"Retry-After": "1"} if status == 429 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def create_app(sim: StreamStackSimulator) -> Starlette:
    """The ASGI app serving ``sim`` on StreamStack's paths (see module docstring).

    Args:
        sim: the state to serve; pipelines stop when the app shuts down.
    """

    async def authed(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        tenant = sim.tenant_of(token.strip()) if scheme.lower() == "bearer" else None
        if tenant is None:
            raise _Fail(401)
        if not sim.allow_request(token.strip()):
            raise _Fail(429)
        injected = sim.take_injected_failure()
        if injected is not None:
            raise _Fail(injected)
        return tenant

    def owned(tenant: str, uuid: str) -> SimMedia:
        media = sim.media.get(uuid)
        if media is None:
            raise _Fail(404)
        if media.tenant != tenant:
            raise _Fail(403)
        return media

    async def json_body(request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > sim.max_body_bytes:
            raise _Fail(413)
        raw = await request.body()
        if len(raw) > sim.max_body_bytes:
            raise _Fail(413)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}

    def require(body: dict[str, Any], *names: str) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name in names:
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                errors[name] = [f"The {name} field is required."]
            elif len(value) > 255 and name != "url":
                errors[name] = [f"The {name} field must not be greater than 255 characters."]
        return errors

    def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise _Fail(422, {name: [f"The {name} field must be between {low} and {high}."]})
        return int(raw)

    async def list_media(request: Request) -> Response:
        tenant = await authed(request)
        page = _int_param(request, "page", 1, 1, 1_000_000)
        per_page = _int_param(request, "per_page", 20, 1, 100)
        rows = sim.list_for(tenant)
        start = (page - 1) * per_page
        base = _base(request)
        return JSONResponse(
            {
                "data": [m.to_json(base) for m in rows[start : start + per_page]],
                "meta": {
                    "current_page": page,
                    "per_page": per_page,
                    "total": len(rows),
                    "last_page": max(1, -(-len(rows) // per_page)),
                },
            }
        )

    async def media_item(request: Request) -> Response:
        tenant = await authed(request)
        media = owned(tenant, request.path_params["uuid"])
        if request.method == "DELETE":
            del sim.media[media.uuid]
            return Response(status_code=204)
        return JSONResponse({"data": media.to_json(_base(request))})

    async def media_stats(request: Request) -> Response:
        tenant = await authed(request)
        media = owned(tenant, request.path_params["uuid"])
        period = request.query_params.get("period", "7d")
        if period not in PERIODS:
            raise _Fail(422, {"period": ["The selected period is invalid."]})
        return JSONResponse(sim.stats_for(media, period))

    async def presign(request: Request) -> Response:
        tenant = await authed(request)
        body = await json_body(request)
        errors = require(body, "title", "filename", "content_type")
        ctype = body.get("content_type")
        if "content_type" not in errors and not str(ctype).startswith("video/"):
            errors["content_type"] = ["The content type must be a video type."]
        if errors:
            raise _Fail(422, errors)
        media = sim.create_media(
            tenant, body["title"].strip(), filename=body["filename"], content_type=ctype
        )
        url = f"{_base(request)}/uploads/{media.uuid}?token={media.upload_token}"
        return JSONResponse(
            {
                "uuid": media.uuid,
                "upload_url": url,
                "method": "PUT",
                "headers": {"Content-Type": ctype},
                "expires_in": 3600,
            },
            status_code=201,
        )

    async def upload_url(request: Request) -> Response:
        tenant = await authed(request)
        body = await json_body(request)
        errors = require(body, "title", "url")
        if "url" not in errors:
            parts = urlsplit(str(body["url"]))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors["url"] = ["The url field must be a valid URL."]
        if errors:
            raise _Fail(422, errors)
        media = sim.create_media(tenant, body["title"].strip(), source_url=body["url"])
        media.upload_token = None
        sim.start_pipeline(media, _base(request))
        return JSONResponse({"data": media.to_json(_base(request))}, status_code=201)

    async def put_upload(request: Request) -> Response:
        media = sim.media.get(request.path_params["uuid"])
        token = request.query_params.get("token", "")
        if media is None or not media.upload_token:
            raise _Fail(404)
        if not _same(token, media.upload_token) or sim.clock() > (media.upload_expires or 0):
            raise _Fail(403)
        if media.status != "uploading":
            raise _Fail(409)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > sim.max_upload_bytes:
            raise _Fail(413)
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > sim.max_upload_bytes:
                raise _Fail(413)
        media.size = size
        sim.start_pipeline(media, _base(request))
        return Response(status_code=200)

    async def player(request: Request) -> Response:
        media = sim.media.get(request.path_params["uuid"])
        if media is None:
            raise _Fail(404)
        title = html.escape(media.title)
        flags = ", ".join(f"{k}={v}" for k, v in sorted(request.query_params.items()))
        return HTMLResponse(
            f"<!doctype html><title>{title}</title><h1>{title}</h1>"
            f"<p>StreamStack sandbox player — status {media.status}"
            f"{html.escape(' (' + flags + ')') if flags else ''}</p>"
        )

    async def on_fail(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Fail)
        return _error(exc.status, exc.errors)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    routes = [
        Route("/api/v1/media", list_media, methods=["GET"]),
        Route("/api/v1/media/{uuid}", media_item, methods=["GET", "DELETE"]),
        Route("/api/v1/media/{uuid}/stats", media_stats, methods=["GET"]),
        Route("/api/v1/upload/presign", presign, methods=["POST"]),
        Route("/api/v1/upload/url", upload_url, methods=["POST"]),
        Route("/uploads/{uuid}", put_upload, methods=["PUT"]),
        Route("/player/{uuid}", player, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={_Fail: on_fail, HTTPException: on_http},
        lifespan=lifespan,
    )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
