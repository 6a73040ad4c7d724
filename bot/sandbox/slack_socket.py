"""Slack's side of Socket Mode, for the fake Slack: a WebSocket server on a loopback port.

A Socket Mode app calls ``apps.connections.open`` with its app-level token
(``xapp-…``); the fake Slack answers with a URL from :meth:`SocketModeServer.issue_url`,
``ws://127.0.0.1:<port>/link/?ticket=…&app_id=…``, good for one connection (an
unknown or used ticket is refused with 401, as Slack refuses a stale link). On
connecting, the app gets Slack's ``hello``; then every delivery is an envelope
shaped like Slack's::

    {"envelope_id": "…", "type": "slash_commands" | "interactive" | "events_api",
     "payload": {…}, "accepts_response_payload": true | false,
     "retry_attempt": 0, "retry_reason": ""}        (the last two: events_api only)

and the app answers each with an ack, ``{"envelope_id": "…"}`` plus an optional
``payload`` (a slash command's immediate reply, a modal's ``response_action``).
The server records every ack with the time it took (:attr:`SocketModeServer.acks`).
:meth:`SocketModeServer.drop` closes the connections the way a network blip or a
Slack deploy does, and :meth:`SocketModeServer.ask_to_reconnect` sends Slack's
``disconnect`` message.

Built on aiohttp's server (aiohttp is already a dependency: it is what slack_sdk's
Socket Mode client and Web API client use).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.slack import FakeSlack

DEFAULT_APP_ID = "A0STREAMOPS"

#: The envelope type Slack uses for each kind of delivery.
SLASH_COMMANDS = "slash_commands"
INTERACTIVE = "interactive"
EVENTS_API = "events_api"

#: Interactive payloads whose ack may carry a response (``response_action``, options).
_ANSWERABLE_INTERACTIONS = frozenset({"view_submission", "block_suggestion"})


@dataclass(frozen=True)
class Envelope:
    """One delivery, as Slack frames it on the socket."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""

    def message(self) -> dict[str, Any]:
        """The JSON object sent on the socket."""
        framed: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == EVENTS_API:
            framed["retry_attempt"] = self.retry_attempt
            framed["retry_reason"] = self.retry_reason
        return framed


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    #: Seconds from sending the envelope to receiving this ack.
    seconds: float


@dataclass
class SocketModeServer:
    """Slack's Socket Mode endpoint for one app, attached to a :class:`FakeSlack`.

    Use as ``async with SocketModeServer(slack) as server:``; the fake Slack's
    ``apps.connections.open`` hands out this server's URLs while it runs.

    Attributes:
        slack: the fake Slack whose ``apps.connections.open`` issues this server's URLs.
        app_id: the app id in the URLs and in ``hello``.
        acks: every ack received, by envelope id (the first one, when acked twice).
        extra_acks: acks for envelopes already acked, or never sent.
        connections: how many connections were accepted so far.
        clock: monotonic seconds (ack times are measured with it).
    """

    slack: FakeSlack
    app_id: str = DEFAULT_APP_ID
    host: str = "127.0.0.1"
    acks: dict[str, Ack] = field(default_factory=dict)
    extra_acks: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    clock: Callable[[], float] = time.monotonic
    _open: list[web.WebSocketResponse] = field(default_factory=list)
    _tickets: set[str] = field(default_factory=set)
    _sent: dict[str, tuple[Envelope, float]] = field(default_factory=dict)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _runner: web.AppRunner | None = None
    _port: int = 0

    # -- life cycle ------------------------------------------------------------

    async def __aenter__(self) -> SocketModeServer:
        app = web.Application()
        app.router.add_get("/link/", self._connect)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.slack.socket_mode = self
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.slack.socket_mode is self:
            self.slack.socket_mode = None
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        """``ws://host:port`` of the running server."""
        return f"ws://{self.host}:{self._port}"

    def issue_url(self) -> str:
        """A URL for one new connection (what ``apps.connections.open`` answers)."""
        ticket = secrets.token_urlsafe(16)
        self._tickets.add(ticket)
        return f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- what tests do -----------------------------------------------------------

    @property
    def open_connections(self) -> int:
        """Connections open right now."""
        return sum(1 for ws in self._open if not ws.closed)

    async def wait_connected(self, connections: int = 1, within: float = 20.0) -> None:
        """Wait until ``connections`` were accepted in all and one is open now."""
        await self.wait_for(
            lambda s: s.connections >= connections and s.open_connections > 0, within
        )

    async def send(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Envelope:
        """Deliver ``payload`` in an envelope on the newest open connection.

        Args:
            type: ``slash_commands``, ``interactive`` or ``events_api``.
            envelope_id: reuse an earlier envelope's id (a redelivery); a new one by default.
            retry_attempt, retry_reason: an Events API retry (``retry_reason``: ``timeout``...).
        """
        envelope = Envelope(
            envelope_id=envelope_id or str(uuid.uuid4()),
            type=type,
            payload=payload,
            accepts_response_payload=_accepts_response_payload(type, payload),
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        connection = next((ws for ws in reversed(self._open) if not ws.closed), None)
        if connection is None:
            raise ConnectionError("no Socket Mode connection is open")
        self._sent.setdefault(envelope.envelope_id, (envelope, self.clock()))
        await connection.send_str(json.dumps(envelope.message()))
        return envelope

    async def wait_ack(self, envelope_id: str, within: float = 20.0) -> Ack:
        """The ack of ``envelope_id``, once it arrives."""
        await self.wait_for(lambda s: envelope_id in s.acks, within)
        return self.acks[envelope_id]

    async def drop(self) -> None:
        """Close every open connection (the app should reconnect by itself)."""
        for ws in list(self._open):
            await ws.close(code=1001, message=b"going away")

    async def ask_to_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message on every open connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        for ws in list(self._open):
            if not ws.closed:
                await ws.send_str(json.dumps(message))

    # -- the server side ---------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._open.append(ws)
        self.connections += 1
        try:
            await ws.send_str(json.dumps(self._hello()))
            await self._notify()
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._received(message.data)
        finally:
            self._open.remove(ws)
            await self._notify()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": self.open_connections,
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def _received(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            ack = None
        if not isinstance(ack, dict) or not isinstance(ack.get("envelope_id"), str):
            self.extra_acks.append({"unreadable": text})
            await self._notify()
            return
        envelope_id = ack["envelope_id"]
        sent = self._sent.get(envelope_id)
        if sent is None or envelope_id in self.acks:
            self.extra_acks.append(ack)
        else:
            payload = ack.get("payload")
            self.acks[envelope_id] = Ack(
                envelope_id,
                payload if isinstance(payload, dict) else None,
                self.clock() - sent[1],
            )
            envelope = sent[0]
            response_url = envelope.payload.get("response_url")
            if envelope.type == SLASH_COMMANDS and payload and isinstance(response_url, str):
                # Slack shows a slash command's ack payload to the user, as over HTTP.
                body = json.dumps(payload).encode()
                await self.slack.show_ack(response_url, body, "application/json")
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[SocketModeServer], bool], within: float = 20.0
    ) -> None:
        """Wait until ``predicate(self)`` holds; raise ``TimeoutError`` otherwise."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), within)


def _accepts_response_payload(type: str, payload: dict[str, Any]) -> bool:
    """Whether Slack lets the ack of this delivery carry a response."""
    if type == SLASH_COMMANDS:
        return True
    if type == INTERACTIVE:
        return payload.get("type") in _ANSWERABLE_INTERACTIONS
    return False


@contextlib.asynccontextmanager
async def socket_mode(
    slack: FakeSlack, app_token: str | None = None
) -> AsyncIterator[SocketModeServer]:
    """Run a Socket Mode server for ``slack`` (accepting ``app_token`` only, when given)."""
    if app_token is not None:
        slack.app_token = app_token
    async with SocketModeServer(slack) as server:
        yield server
