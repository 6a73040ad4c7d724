"""A local Streampixel: the REST API under ``/pixelStripeApi``, stateful.

Point ``STREAMPIXEL_BASE_URL`` at ``http://HOST:PORT/pixelStripeApi`` and the
client cannot tell the difference. Served paths (same as the real API):

- ``GET  /pixelStripeApi/projects/projects-status?userId=&apikey=``
- ``GET  /pixelStripeApi/projects/userStats/{projectId}?userId=&apikey=``
- ``POST /pixelStripeApi/projects/upload-file``
- ``POST /pixelStripeApi/projects/distribute-file``
- ``POST /pixelStripeApi/projects/test-webhook``

Every refusal is ``{"message": ...}`` with the documented words, checked in the
documented order (providers.md P12): 400 missing fields → 401 "Invalid User" →
401 "Unauthorized: Invalid API Key" → 404 "Project not found" → 403 "Access
denied" → 429 → the action. Upload and distribute each admit one request per
user per 120 s (by the simulator's clock); a request that reaches the limiter
uses the slot even if the action then fails (e.g. "File not found in project").
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from bot.sandbox.streampixel_models import (
    DEMO_API_KEY,
    DEMO_OTHER_API_KEY,
    DEMO_OTHER_USER_ID,
    DEMO_READONLY_API_KEY,
    DEMO_READONLY_USER_ID,
    DEMO_USER_ID,
    RATE_LIMIT_SECONDS,
    SimError,
    SimProject,
    StageTimings,
    WebhookDelivery,
)
from bot.sandbox.streampixel_state import StreampixelSimulator

__all__ = [
    "BASE_PATH",
    "DEMO_API_KEY",
    "DEMO_OTHER_API_KEY",
    "DEMO_OTHER_USER_ID",
    "DEMO_READONLY_API_KEY",
    "DEMO_READONLY_USER_ID",
    "DEMO_USER_ID",
    "StageTimings",
    "StreampixelSimulator",
    "WebhookDelivery",
    "create_app",
]

BASE_PATH = "/pixelStripeApi"

RATE_LIMITED = "Rate limit exceeded. Try again in 2 minutes."
_ZIP_URL = re.compile(r"^https?://[^/\s?#]+/[^\s?#]*\.zip(\?[^\s#]*)?$", re.IGNORECASE)

WEBHOOK_NON_2XX = "Webhook endpoint returned non-2xx status"

Handler = Callable[[StreampixelSimulator, Request], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _json(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _account_checks(sim: StreampixelSimulator, user_id: str, api_key: str | None) -> None:
    """401 "Invalid User", then 401 "Unauthorized: Invalid API Key"."""
    account = sim.accounts.get(user_id)
    if account is None:
        raise SimError(401, "Invalid User")
    if not api_key or api_key != account.api_key:
        raise SimError(401, "Unauthorized: Invalid API Key")


def _project_checks(
    sim: StreampixelSimulator, user_id: str, project_id: str, *, write: bool = False
) -> SimProject:
    """404 "Project not found", 403 "Access denied" (not reachable by the user, or disabled).

    A READONLY key asking to write gets 403 "Forbidden".
    """
    project = sim.projects.get(project_id)
    if project is None:
        raise SimError(404, "Project not found")
    account = sim.accounts[user_id]
    if not account.can_reach(project) or not project.enabled:
        raise SimError(403, "Access denied")
    if write and account.readonly:
        raise SimError(403, "Forbidden")
    return project


async def _body(request: Request, required: tuple[str, ...]) -> dict[str, Any]:
    """The JSON body, with each required field a non-empty string (else 400/415)."""
    if "json" not in request.headers.get("content-type", ""):
        raise SimError(415, "Unsupported Media Type")
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise SimError(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise SimError(400, "Invalid JSON body")
    for name in required:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise SimError(400, f"Missing required field: {name}")
    return body


def _rate_limit(sim: StreampixelSimulator, user_id: str, action: str) -> None:
    if not sim.take_rate_slot(user_id, action):
        window = sim.rate_limit_seconds
        if window == RATE_LIMIT_SECONDS:
            raise SimError(429, RATE_LIMITED)  # Streampixel's own words
        raise SimError(429, f"Rate limit exceeded. Try again in {window:g} seconds.")


async def projects_status(sim: StreampixelSimulator, request: Request) -> Response:
    """Every project of ``userId`` with its enabled flag."""
    user_id = request.query_params.get("userId")
    if not user_id:
        raise SimError(400, "User ID is required")
    _account_checks(sim, user_id, request.query_params.get("apikey"))
    projects = [
        {
            "_id": p.id,
            "name": p.name,
            "status": p.enabled,
            "subscriptionStatus": p.subscription_status,
        }
        for p in sim.projects.values()
        if p.owner == user_id
    ]
    return _json(200, {"totalProjects": len(projects), "projects": projects})


async def user_stats(sim: StreampixelSimulator, request: Request) -> Response:
    """Live and queued user counts of one project."""
    project_id = request.path_params.get("project_id", "")
    user_id = request.query_params.get("userId")
    api_key = request.query_params.get("apikey")
    if not (project_id and user_id and api_key):
        raise SimError(400, "projectId, userId and apikey are required")
    _account_checks(sim, user_id, api_key)
    project = _project_checks(sim, user_id, project_id)
    return _json(200, {"liveUser": project.live_users, "queueUser": project.queue_users})


async def get_project(sim: StreampixelSimulator, request: Request) -> Response:
    """One project with its files (the stored ``GET /projects/{id}`` shape, SP-getproj).

    ``files`` lists the builds that finished processing: ``Approved`` ones with
    their ``url``, rejected ones (``Reject``) with their ``objection``.
    """
    project_id = request.path_params.get("project_id", "")
    user_id = request.query_params.get("userId")
    if not user_id:
        raise SimError(400, "User ID is required")
    _account_checks(sim, user_id, request.query_params.get("apikey"))
    project = _project_checks(sim, user_id, project_id)
    files = [
        {
            "_id": u.id,
            "url": u.file_url if u.status != "Reject" else None,
            "status": "Reject" if u.status == "Reject" else "Approved",
            "date": datetime.fromtimestamp(u.created_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "objection": u.objection,
        }
        for u in sim.uploads.values()
        if u.project_id == project.id and u.status in ("Approved", "Distribute", "Reject")
    ]
    return _json(
        200,
        {
            "id": project.id,
            "name": project.name,
            "region": project.region,
            "status": "active" if project.enabled else "disabled",
            "webhookUrl": project.webhook_url,
            "files": files,
            "liveUsers": project.live_users,
            "usersInQueue": project.queue_users,
            "subscriptionStatus": project.subscription_status,
        },
    )


async def upload_file(sim: StreampixelSimulator, request: Request) -> Response:
    """Queue a build by URL and start its pipeline."""
    body = await _body(request, ("apiKey", "userId", "projectId", "fileUrl"))
    auto_release = body.get("autoRelease", True)
    if not isinstance(auto_release, bool):
        raise SimError(400, "autoRelease must be a boolean")
    if not _ZIP_URL.match(body["fileUrl"]):
        raise SimError(400, "Invalid file URL")
    _account_checks(sim, body["userId"], body["apiKey"])
    project = _project_checks(sim, body["userId"], body["projectId"], write=True)
    _rate_limit(sim, body["userId"], "upload")
    upload = sim.start_upload(project, body["fileUrl"], auto_release)
    return _json(200, {"message": "Build queued for processing", "uploadId": upload.id})


async def distribute_file(sim: StreampixelSimulator, request: Request) -> Response:
    """Release an approved build to the project's region."""
    body = await _body(request, ("apiKey", "userId", "projectId", "uploadId"))
    _account_checks(sim, body["userId"], body["apiKey"])
    project = _project_checks(sim, body["userId"], body["projectId"], write=True)
    _rate_limit(sim, body["userId"], "distribute")
    upload = sim.uploads.get(body["uploadId"])
    if upload is None or upload.project_id != project.id:
        raise SimError(404, "File not found in project")
    if upload.status != "Approved":
        raise SimError(400, "File has no URL")
    sim.start_distribution(project, upload)
    return _json(200, {"message": "Distribution triggered"})


async def test_webhook(sim: StreampixelSimulator, request: Request) -> Response:
    """Send ``webhook.test`` to the project's webhook URL and report the outcome."""
    body = await _body(request, ("apiKey", "userId", "projectId"))
    _account_checks(sim, body["userId"], body["apiKey"])
    project = _project_checks(sim, body["userId"], body["projectId"])
    if not project.webhook_url:
        raise SimError(404, "No webhook URL configured")
    payload = sim.payload(project, "webhook.test", None)
    sim.events.append(payload)
    delivery = await sim.deliver(project.webhook_url, payload)
    message = (
        "Test webhook delivered" if delivery.ok else "Webhook endpoint returned non-2xx status"
    )
    return _json(
        200, {"success": delivery.ok, "message": message, "statusCode": delivery.status_code}
    )


def _endpoint(
    sim: StreampixelSimulator, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            fault = sim.take_fault()
            if fault is not None:
                raise fault
            return await handler(sim, request)
        except SimError as refusal:
            return _json(refusal.status, {"message": refusal.message})

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal server error"
    return _json(status, {"message": detail})


def create_app(sim: StreampixelSimulator, *, base_path: str = BASE_PATH) -> Starlette:
    """The simulator as an ASGI app serving the real API paths under ``base_path``.

    Args:
        sim: the state to serve; keep a reference to inspect or drive it.
        base_path: the path prefix of the real API.
    """
    routes = [
        Route("/projects/projects-status", _endpoint(sim, projects_status), methods=["GET"]),
        Route("/projects/userStats/{project_id}", _endpoint(sim, user_stats), methods=["GET"]),
        Route("/projects/upload-file", _endpoint(sim, upload_file), methods=["POST"]),
        Route("/projects/distribute-file", _endpoint(sim, distribute_file), methods=["POST"]),
        Route("/projects/test-webhook", _endpoint(sim, test_webhook), methods=["POST"]),
        Route("/projects/{project_id}", _endpoint(sim, get_project), methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    return Starlette(
        routes=[Mount(base_path, routes=routes)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
