"""A local, stateful stand-in for the Slack Web API and ``response_url`` endpoints.

Point ``SLACK_API_URL`` at ``<url>/api/`` and give slash-command payloads a
``response_url`` of ``<url>/response/<anything>``: every call the bot makes is
recorded in :attr:`FakeSlack.calls`, messages are kept per channel so
``chat.update`` edits them in place, and outages or rate limits can be
injected. Tests and ``streamops demo`` use it; it is not Slack.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_USER_ID = "U0STREAMOPS"
BOT_ID = "B0STREAMOPS"
TEAM_ID = "T0STREAMOPS"


@dataclass
class SlackCall:
    """One request the bot made: a Web API method or a ``response_url`` post."""

    method: str
    payload: dict[str, Any]


@dataclass
class Message:
    """A message as Slack would keep it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str | None = None
    edits: int = 0


@dataclass
class FakeSlack:
    """State of the fake Slack workspace.

    Attributes:
        calls: every request received, in order.
        messages: posted messages by ``(channel, ts)``.
        failures: how many upcoming Web API calls answer ``failure_status``.
        retry_after: when set, every Web API call answers 429 with this Retry-After.
    """

    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    failures: int = 0
    failure_status: int = 503
    retry_after: int | None = None
    listeners: list[Callable[[SlackCall], None]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None

    # -- inspection helpers for tests and the demo console ------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Payloads of every call to ``method`` (``"response_url"`` for respond())."""
        return [c.payload for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[Message]:
        """Messages posted to ``channel``, oldest first."""
        return sorted(
            (m for (ch, _), m in self.messages.items() if ch == channel),
            key=lambda m: float(m.ts),
        )

    async def wait_for(self, predicate: Callable[[FakeSlack], bool], within: float = 5.0) -> None:
        """Wait until ``predicate(self)`` holds; raise ``TimeoutError`` otherwise."""
        condition = self._condition()
        async with condition:
            await asyncio.wait_for(condition.wait_for(lambda: predicate(self)), within)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _record(self, call: SlackCall) -> None:
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        condition = self._condition()
        async with condition:
            condition.notify_all()

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # -- Web API methods -----------------------------------------------------

    def handle(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one Web API call (already recorded)."""
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": True}
        result: dict[str, Any] = handler(payload)
        return result

    def _m_auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://streamops-demo.slack.com/",
            "team": "StreamOps Demo",
            "user": "streamops",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = Message(
            channel=channel,
            ts=ts,
            text=str(p.get("text") or ""),
            blocks=list(p.get("blocks") or []),
            thread_ts=p.get("thread_ts"),
            user=BOT_USER_ID,
        )
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _m_chat_postEphemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (str(p.get("channel")), str(p.get("ts")))
        message = self.messages.get(key)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = str(p.get("text") or message.text)
        if "blocks" in p:
            message.blocks = list(p.get("blocks") or [])
        message.edits += 1
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = str(p.get("user"))
        name = self.users.get(user, user.lower())
        return {"ok": True, "user": {"id": user, "name": name, "real_name": name}}

    def _m_conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        users = str(p.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0]}}

    def _m_views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **(p.get("view") or {})}}

    _m_views_update = _m_views_open
    _m_views_push = _m_views_open
    _m_views_publish = _m_views_open

    def _m_files_getUploadURLExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files") or []
        return {"ok": True, "files": files if isinstance(files, list) else []}


def _decode_form(form: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in form.items():
        if value[:1] in "[{":
            try:
                out[key] = json.loads(value)
                continue
            except ValueError:
                pass
        out[key] = value
    return out


def create_app(slack: FakeSlack) -> Starlette:
    """The ASGI app serving ``/api/<method>``, ``/response/<id>`` and ``/upload/<id>``."""

    async def api(request: Request) -> Response:
        method = request.path_params["method"]
        slack.base_url = str(request.base_url).rstrip("/")
        payload = await _payload(request)
        await slack._record(SlackCall(method, payload))
        if slack.retry_after is not None:
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(slack.retry_after)},
            )
        if slack.failures > 0:
            slack.failures -= 1
            return JSONResponse({"ok": False, "error": "fatal_error"}, slack.failure_status)
        return JSONResponse(slack.handle(method, payload))

    async def response_url(request: Request) -> Response:
        payload = await _payload(request)
        payload["_response_id"] = request.path_params["rid"]
        await slack._record(SlackCall("response_url", payload))
        return Response("ok")

    async def upload(request: Request) -> Response:
        body = await request.body()
        await slack._record(
            SlackCall("file_upload", {"file_id": request.path_params["fid"], "content": body})
        )
        return Response("OK")

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["POST", "GET"]),
            Route("/response/{rid:path}", response_url, methods=["POST"]),
            Route("/upload/{fid}", upload, methods=["POST", "PUT"]),
        ]
    )


async def _payload(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        body = await request.body()
        data = json.loads(body) if body else {}
        return data if isinstance(data, dict) else {"_": data}
    fields: dict[str, str] = {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Parsed here rather than by Starlette's form(), which needs python-multipart.
        fields = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return {**_decode_form(dict(request.query_params)), **_decode_form(fields)}
