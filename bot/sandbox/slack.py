"""A local, stateful stand-in for the Slack Web API and ``response_url`` endpoints.

Point ``SLACK_API_URL`` at ``<url>/api/`` and give slash-command payloads a
``response_url`` of ``<url>/response/<anything>``: every call the bot makes is
recorded in :attr:`FakeSlack.calls`, messages are kept per channel so
``chat.update`` edits them in place, and outages or rate limits can be
injected. Tests and ``streamops demo`` use it; it is not Slack.

It refuses what Slack refuses (see :mod:`bot.sandbox.slack_limits`): a method
the granted bot scopes (``manifest.yml`` by default) do not allow answers
``missing_scope``; a bad token ``invalid_auth``; a message over Slack's Block
Kit or text limits ``invalid_blocks`` / ``msg_too_long``; a post to a channel
that does not exist ``channel_not_found``, to one the bot has not joined
``not_in_channel`` (unless ``chat:write.public`` is granted); a
``response_url`` used more than 5 times or after 30 minutes ``used_url`` /
``expired_url``; a ``trigger_id`` older than 3 seconds ``expired_trigger_id``.
Every refusal is recorded with the call (:attr:`SlackCall.error`).

Tokens are typed as Slack types them: ``apps.connections.open`` takes only an
app-level token (``xapp-…``) and every other method only a bot token; the wrong
kind answers ``not_allowed_token_type``. With a Socket Mode server attached
(:class:`bot.sandbox.slack_socket.SocketModeServer`), ``apps.connections.open``
answers the ``ws://`` URL of a new connection.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.sandbox import slack_limits

BOT_USER_ID = "U0STREAMOPS"
BOT_ID = "B0STREAMOPS"
TEAM_ID = "T0STREAMOPS"

#: How often and for how long one ``response_url`` may be used (Slack: 5 times in 30 minutes).
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60
#: How long a ``trigger_id`` can be exchanged for a modal.
TRIGGER_ID_SECONDS = 3.0

#: How app-level tokens begin: they open Socket Mode connections and call nothing else.
APP_TOKEN_PREFIX = "xapp-"  # noqa: S105 (a prefix, not a token)

_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{1,20}$")
_CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})


def _default_scopes() -> frozenset[str] | None:
    try:
        return slack_limits.manifest_scopes()
    except OSError:  # installed without the repository's manifest.yml: no scope checks
        return None


class SocketModeLinks(Protocol):
    """What ``apps.connections.open`` needs from a Socket Mode server."""

    def issue_url(self) -> str:
        """A new one-connection ``ws://`` URL."""
        ...


@dataclass
class SlackCall:
    """One request the bot made: a Web API method or a ``response_url`` post."""

    method: str
    payload: dict[str, Any]
    error: str | None = None


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
        method_retry_after: per method, answer 429 with this Retry-After.
        scopes: the bot scopes granted (``manifest.yml``'s by default; None: no checks).
        token: the only bot token accepted (None: any non-empty token).
        app_token: the only app-level token accepted by ``apps.connections.open``
            (None: any ``xapp-`` token).
        socket_mode: the Socket Mode server whose URLs ``apps.connections.open`` hands out
            (None: Socket Mode is off and the method answers ``access_denied``).
        joined: channels the bot is a member of (matters without ``chat:write.public``).
        unknown_channels: channel ids that do not exist in this workspace.
        clock: monotonic seconds (tests advance it to expire URLs and trigger ids).
    """

    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    failures: int = 0
    failure_status: int = 503
    retry_after: int | None = None
    listeners: list[Callable[[SlackCall], None]] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    method_retry_after: dict[str, int] = field(default_factory=dict)
    scopes: frozenset[str] | None = field(default_factory=_default_scopes)
    token: str | None = None
    app_token: str | None = None
    socket_mode: SocketModeLinks | None = None
    joined: set[str] = field(default_factory=set)
    unknown_channels: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    _response_uses: dict[str, list[float]] = field(default_factory=dict)
    _trigger_ids: dict[str, float] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None

    #: Called with every call to any FakeSlack (the test suite collects the methods it uses).
    observers: ClassVar[list[Callable[[SlackCall], None]]] = []

    # -- inspection helpers for tests and the demo console ------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Payloads of every call to ``method`` (``"response_url"`` for respond())."""
        return [c.payload for c in self.calls if c.method == method]

    def refusals(self) -> list[SlackCall]:
        """Every call the fake refused (the error is in :attr:`SlackCall.error`)."""
        return [c for c in self.calls if c.error is not None]

    def issue_trigger_id(self) -> str:
        """A fresh ``trigger_id``, as Slack puts in a slash command or click; valid for 3 s."""
        trigger_id = f"{int(time.time())}.{next(self._ts)}.{secrets.token_hex(16)}"
        self._trigger_ids[trigger_id] = self.clock()
        return trigger_id

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
        for observer in FakeSlack.observers:
            observer(call)
        for listener in self.listeners:
            listener(call)
        condition = self._condition()
        async with condition:
            condition.notify_all()

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # -- Web API methods -----------------------------------------------------

    def handle(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one Web API call (already recorded and authenticated)."""
        refusal = self.refuse(method, payload)
        if refusal is not None:
            return refusal
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] = handler(payload)
        return result

    def refuse(self, method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Slack's answer when it would refuse this call (scopes, channels, limits), else None."""
        if self.scopes is not None:
            needed = slack_limits.scope_error(method, self.scopes)
            if needed is not None:
                return {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(sorted(self.scopes)),
                }
        if method in _CHANNEL_METHODS:
            channel = str(payload.get("channel") or "")
            if not _CONVERSATION_ID.match(channel) or channel in self.unknown_channels:
                return {"ok": False, "error": "channel_not_found"}
            public_ok = self.scopes is None or "chat:write.public" in self.scopes
            if channel[0] == "C" and channel not in self.joined and not public_ok:
                return {"ok": False, "error": "not_in_channel"}
        if method in _MESSAGE_METHODS:
            if not payload.get("text") and not payload.get("blocks"):
                return {"ok": False, "error": "no_text"}
            problem = slack_limits.message_errors(payload)
            if problem is not None:
                error, details = problem
                return {
                    "ok": False,
                    "error": error,
                    "errors": details,
                    "response_metadata": {"messages": [f"[ERROR] {d}" for d in details]},
                }
        if method in ("views.open", "views.push"):
            trigger_error = self._exchange_trigger_id(str(payload.get("trigger_id") or ""))
            if trigger_error is not None:
                return {"ok": False, "error": trigger_error}
        if method.startswith("views."):
            view = payload.get("view")
            if isinstance(view, str):
                try:
                    view = json.loads(view)
                except ValueError:
                    view = None
            details = slack_limits.view_errors(view)
            if details:
                return {"ok": False, "error": "invalid_arguments", "errors": details}
        return None

    def _exchange_trigger_id(self, trigger_id: str) -> str | None:
        issued = self._trigger_ids.pop(trigger_id, None)
        if issued is None:
            return "invalid_trigger_id" if trigger_id else "invalid_arguments"
        if self.clock() - issued > TRIGGER_ID_SECONDS:
            return "expired_trigger_id"
        return None

    def use_response_url(self, response_id: str, payload: dict[str, Any]) -> str | None:
        """Count one post to a ``response_url``; the error Slack would answer, else None."""
        now = self.clock()
        uses = self._response_uses.setdefault(response_id, [])
        if uses and now - uses[0] > RESPONSE_URL_SECONDS:
            return "expired_url"
        if len(uses) >= RESPONSE_URL_USES:
            return "used_url"
        error = _message_refusal(payload)
        if error is None:
            uses.append(now)
        return error

    async def show_ack(self, response_url: str, body: bytes, content_type: str) -> str | None:
        """Show a slash command's ack body as Slack does; the error Slack would show, else None.

        Slack shows a non-empty ack body to the user like a ``response_url`` post (a
        JSON message, or plain text as an ephemeral text): it is recorded as a
        ``"response_url"`` call of the command's ``response_url`` id, with ``_in_ack``
        set, under the same Block Kit and text limits. It uses none of the URL's five
        posts. An empty body shows nothing and records nothing.
        """
        if not body.strip():
            return None
        payload: dict[str, Any]
        if "json" in content_type:
            data = json.loads(body)
            payload = data if isinstance(data, dict) else {"_": data}
        else:
            payload = {"text": body.decode(), "response_type": "ephemeral"}
        error = _message_refusal(payload)
        payload["_response_id"] = response_url.rpartition("/response/")[2]
        payload["_in_ack"] = True
        await self._record(SlackCall("response_url", payload, error))
        return error

    def authenticate(self, authorization: str) -> str | None:
        """The error for a request carrying this ``Authorization`` header, else None."""
        if not authorization.startswith("Bearer ") or not authorization[7:]:
            return "not_authed"
        token = authorization[7:]
        if token.startswith(APP_TOKEN_PREFIX):
            return "not_allowed_token_type"
        if self.token is not None:
            return None if secrets.compare_digest(token, self.token) else "invalid_auth"
        return None

    def authenticate_app(self, authorization: str) -> str | None:
        """The error for an ``apps.connections.open`` call with this header, else None.

        Slack takes only an app-level token there, and only in the header.
        """
        if not authorization.startswith("Bearer ") or not authorization[7:]:
            return "not_authed"
        token = authorization[7:]
        if not token.startswith(APP_TOKEN_PREFIX):
            return "not_allowed_token_type"
        if self.app_token is not None and not secrets.compare_digest(token, self.app_token):
            return "invalid_auth"
        return None

    def _m_apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode is None:
            return {"ok": False, "error": "access_denied"}
        return {"ok": True, "url": self.socket_mode.issue_url()}

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
        users = str(p.get("users", "")).split(",")[0]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel = "D" + re.sub(r"[^A-Z0-9]", "", users.upper())
        self.joined.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _m_conversations_join(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel") or "")
        if not _CONVERSATION_ID.match(channel) or channel in self.unknown_channels:
            return {"ok": False, "error": "channel_not_found"}
        self.joined.add(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _m_chat_getPermalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(p.get("channel")), str(p.get("message_ts"))
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "permalink": f"{self.base_url}/archives/{channel}"}

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
        call = SlackCall(method, payload)
        retry_after = slack.method_retry_after.get(method, slack.retry_after)
        authorization = request.headers.get("authorization", "")
        if method == "apps.connections.open":
            auth_error = slack.authenticate_app(authorization)
        else:
            auth_error = slack.authenticate(authorization)
        if auth_error is not None:
            call.error = auth_error
            await slack._record(call)
            return JSONResponse({"ok": False, "error": auth_error})
        if retry_after is not None:
            call.error = "ratelimited"
            await slack._record(call)
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(retry_after)},
            )
        if slack.failures > 0:
            slack.failures -= 1
            call.error = "fatal_error"
            await slack._record(call)
            return JSONResponse({"ok": False, "error": "fatal_error"}, slack.failure_status)
        result = slack.handle(method, payload)
        if not result.get("ok"):
            call.error = str(result.get("error"))
        await slack._record(call)
        return JSONResponse(result)

    async def response_url(request: Request) -> Response:
        payload = await _payload(request)
        error = slack.use_response_url(request.path_params["rid"], payload)
        payload["_response_id"] = request.path_params["rid"]
        await slack._record(SlackCall("response_url", payload, error))
        if error is not None:
            return Response(error, status_code=404 if error.endswith("_url") else 400)
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


def _message_refusal(payload: dict[str, Any]) -> str | None:
    """What Slack refuses a message answering a command with (``response_url`` or ack)."""
    problem = slack_limits.message_errors(payload)
    if problem is not None:
        return problem[0]
    if not payload.get("text") and not payload.get("blocks") and not payload.get("delete_original"):
        return "no_text"
    return None


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
