"""The page's server: static files, the workspace as JSON, and the user's actions.

``GET /`` is the page; ``GET /api/state?user=U&after=N`` answers the user's view of
the workspace as soon as its version passes ``N`` (a long poll: the page updates live);
``POST /api/command|click|view_click|submit|close|home`` send what the user did to the
bot (:class:`bot.demo.web.sender.Sender`). Served on loopback by ``streamops demo --web``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.demo.web.present import Person, state
from bot.demo.web.sender import Sender
from bot.demo.workspace import Workspace
from bot.errors import InvalidInput

STATIC = Path(__file__).resolve().parent / "static"
#: The page loads only its own script and style, and nothing it shows can run code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
LONG_POLL_SECONDS = 20.0

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


def create_web_app(
    workspace: Workspace, sender: Sender, *, people: list[Person], home_channel: str,
    long_poll: float = LONG_POLL_SECONDS,
) -> Starlette:  # fmt: skip
    """The ASGI app of the demo page.

    Args:
        workspace: what the users see.
        sender: sends their actions to the bot.
        people: the users the page can switch between (id, name, what they may do).
        home_channel: the channel the page opens on.
        long_poll: the longest ``/api/state`` waits for a change.
    """
    known = {pid for pid, _, _ in people}

    def who(value: Any) -> str:
        user = str(value or "")
        if user not in known:
            raise InvalidInput(f"unknown user `{user}`")
        return user

    async def page(_: Request) -> Response:
        return _secure(FileResponse(STATIC / "index.html", media_type="text/html"))

    async def get_state(request: Request) -> Response:
        try:
            user = who(request.query_params.get("user"))
            after = int(request.query_params.get("after", "-1"))
        except (InvalidInput, ValueError) as exc:
            return _error(str(exc))
        if after >= 0:
            await workspace.wait_after(after, long_poll)
        data = state(workspace, user, people, home_channel=home_channel)
        return _secure(JSONResponse(data, headers={"Cache-Control": "no-store"}))

    def action(run: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not request.headers.get("content-type", "").startswith("application/json"):
                # JSON only: another site's form or text/plain post cannot act for the user
                # (a cross-origin JSON post needs a CORS preflight, which is never granted).
                return _secure(JSONResponse({"ok": False, "error": "send JSON"}, 415))
            try:
                body = json.loads(await request.body() or b"{}")
                if not isinstance(body, dict):
                    raise InvalidInput("expected a JSON object")
                await run(who(body.get("user")), body)
            except (InvalidInput, ValueError) as exc:
                return _error(str(exc))
            return _secure(JSONResponse({"ok": True, "version": workspace.version}))

        return endpoint

    async def command(user: str, body: dict[str, Any]) -> None:
        await sender.command(user, _str(body, "channel"), _str(body, "text"))

    async def click(user: str, body: dict[str, Any]) -> None:
        await sender.click(
            user, _str(body, "channel"), _str(body, "ts"), _str(body, "block_id"),
            _str(body, "action_id"), _str(body, "selected"),
        )  # fmt: skip

    async def view_click(user: str, body: dict[str, Any]) -> None:
        await sender.view_click(
            user, _str(body, "view_id"), _str(body, "block_id"), _str(body, "action_id"),
            _str(body, "selected"),
        )  # fmt: skip

    async def submit(user: str, body: dict[str, Any]) -> None:
        values = body.get("values")
        await sender.submit(user, _str(body, "view_id"), values if isinstance(values, dict) else {})

    async def close(user: str, body: dict[str, Any]) -> None:
        await sender.close(user, _str(body, "view_id"))

    async def home(user: str, body: dict[str, Any]) -> None:
        await sender.open_home(user)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/state", get_state),
            Route("/api/command", action(command), methods=["POST"]),
            Route("/api/click", action(click), methods=["POST"]),
            Route("/api/view_click", action(view_click), methods=["POST"]),
            Route("/api/submit", action(submit), methods=["POST"]),
            Route("/api/close", action(close), methods=["POST"]),
            Route("/api/home", action(home), methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]
    )


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


def _error(message: str) -> Response:
    return _secure(JSONResponse({"ok": False, "error": message}, status_code=400))


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
