"""What reaches Bolt on ``POST /slack/events``: bounded, well-formed, never logged with its body.

:class:`SlackIntakeGuard` is a plain ASGI middleware (composable with any other)
for the Slack route. Before Bolt parses anything it refuses:

- a body over :data:`MAX_BODY` bytes: 413, decided while reading (``Content-Length``
  or the streamed bytes), so a huge body is never buffered;
- a missing or non-numeric ``X-Slack-Request-Timestamp``: 401, as Bolt answers a
  bad signature (Bolt itself would raise on ``int()`` and answer 500);
- a body that is not UTF-8: 400 (Bolt would fail decoding it and answer 500);
- a body Bolt cannot read into a request (:func:`bolt_request`): 400 (Bolt
  would raise while parsing it, before the signature check, and answer 500).

The request Bolt's constructor read is kept in the ASGI scope
(:func:`parsed_bolt_request`), so the route dispatches it without parsing the
body a second time (a click's form-encoded JSON payload is most of the parse).

:func:`quiet_slack_request_logs` keeps request bodies and ``response_url`` values
out of the logs: Bolt logs a bad-signature request *with its body* at INFO, and
the SDK's webhook client logs ``response_url`` (a credential for 30 minutes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest body Slack sends is far below this (a big view_submission is ~100 KB).
MAX_BODY = 1024 * 1024
#: Slash-command text longer than this gets the usage message (Slack's own limit is 4,000).
MAX_COMMAND_TEXT = 4000

log = logging.getLogger("streamops.intake")

#: Where the guard leaves the request Bolt's constructor read (``scope["state"]``).
_STATE_KEY = "streamops_bolt_request"


class SlackIntakeGuard:
    """ASGI middleware refusing oversized, unsigned-looking or non-UTF-8 Slack requests."""

    def __init__(self, app: ASGIApp, *, path: str = "/slack/events", max_body: int = MAX_BODY):
        self.app = app
        self.path = path
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        timestamp = headers.get("x-slack-request-timestamp", b"").strip()
        if not timestamp.isdigit() or len(timestamp) > 12:
            await _answer(send, 401, {"error": "invalid request"})
            return
        length = headers.get("content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            await _answer(send, 413, {"error": "request body too large"})
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > self.max_body:
                await _answer(send, 413, {"error": "request body too large"})
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            await _answer(send, 400, {"error": "request body is not UTF-8"})
            return
        request = bolt_request(text, headers, scope.get("query_string", b""))
        if request is None:
            await _answer(send, 400, {"error": "request body is not a Slack payload"})
            return
        scope.setdefault("state", {})[_STATE_KEY] = request
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def bolt_request(
    text: str, headers: dict[str, bytes], query: bytes = b""
) -> AsyncBoltRequest | None:
    """The request Bolt reads from ``text``, or None where Bolt's reading would raise.

    Bolt parses the body (JSON, or a form whose ``payload`` field is JSON) and reads
    its team/enterprise ids *before* it checks the signature; a body starting with
    ``{`` that is not JSON, a ``payload=`` that is not a JSON object, or
    ``{"enterprise": 5}`` makes it raise, and the request would get a 500. The check
    is Bolt's own request constructor, given what Bolt's Starlette adapter gives it
    (body text, query, headers), so the result is the request Bolt dispatches.
    """
    try:
        request = AsyncBoltRequest(
            body=text,
            query=query.decode("latin-1"),
            headers={k: v.decode("latin-1") for k, v in headers.items()},
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
        return None
    return request if isinstance(request.body, dict) else None


def parsed_bolt_request(scope: Scope) -> AsyncBoltRequest | None:
    """The request :class:`SlackIntakeGuard` read for this ``scope`` (None: not guarded)."""
    request = scope.get("state", {}).get(_STATE_KEY)
    return request if isinstance(request, AsyncBoltRequest) else None


async def _answer(send: Send, status: int, payload: dict[str, str]) -> None:
    body = json.dumps(payload).encode()
    log.info("refused a Slack request: HTTP %s (%s)", status, payload["error"])
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _NoBodies(logging.Filter):
    """Rewrites Bolt's bad-signature line without the body; drops webhook-URL lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request signature detected"):
            record.msg = "Invalid request signature detected (request body not logged)"
            record.args = ()
            return True
        return "hooks.slack.com" not in message and "/response/" not in message


def quiet_slack_request_logs() -> None:
    """Keep request bodies and ``response_url`` values out of the logs (idempotent)."""
    for name in (
        "slack_bolt.AsyncRequestVerification",
        "slack_bolt.RequestVerification",
        "slack_sdk.webhook.async_client",
        "slack_sdk.webhook.client",
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoBodies) for f in logger.filters):
            logger.addFilter(_NoBodies())
    # The webhook client's INFO/DEBUG lines carry the response_url: never below WARNING.
    for name in ("slack_sdk.webhook.async_client", "slack_sdk.webhook.client"):
        logging.getLogger(name).setLevel(logging.WARNING)
