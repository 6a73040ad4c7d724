"""Provider webhook receivers: ``POST /webhooks/{streampixel,streamstack}/{token}``.

Order of checks, each answered before anything is stored:

1. the path token equals ``STREAMOPS_WEBHOOK_TOKEN`` (constant time); unset
   or wrong → 404, so the endpoint does not reveal that it exists;
2. the body is at most :data:`MAX_BODY_BYTES` → otherwise 413, decided from
   ``Content-Length`` or while reading the stream (a larger body is never buffered);
3. StreamStack only, when ``STREAMSTACK_WEBHOOK_SECRET`` is set: the
   ``X-StreamStack-Signature`` HMAC of the raw body → 401 when missing or wrong;
4. the body is UTF-8 JSON no deeper than 32 levels, without NUL or lone
   surrogates, and its envelope validates (required fields, strings no longer
   than their columns) → otherwise 400 with the reason (``bot.webhooks.parse``).

Then one transaction stores the delivery (deduplicated) and its outbox rows,
and only then is the 2xx sent: 200 for a stored or duplicate known event, 202
for an unknown event (stored, not posted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.container import Container
from bot.errors import InvalidInput
from bot.webhooks.parse import WebhookEvent, parse_streampixel, parse_streamstack
from bot.webhooks.signatures import (
    STREAMSTACK_SIGNATURE_HEADER,
    streamstack_signature_valid,
    token_matches,
)

log = logging.getLogger("streamops.webhooks")

#: Larger bodies are refused (a webhook envelope is a few hundred bytes).
MAX_BODY_BYTES = 256 * 1024
BODY_TOO_LARGE = "body too large"


def routes(container: Container) -> list[Route]:
    """The two webhook routes, bound to ``container``."""

    def count(provider: str, outcome: str) -> None:
        """Count the webhook in /metrics and, when not stored, in the shared tallies."""
        container.metrics.webhooks.labels(provider, outcome).inc()
        container.tallies.count_webhook(provider, outcome)  # written in batches (bot.jobs.tallies)

    def receiver(
        provider: str, parse: Callable[[bytes], WebhookEvent]
    ) -> Callable[[Request], object]:
        async def receive(request: Request) -> Response:
            expected = container.settings.webhook_token
            token = str(request.path_params.get("token", ""))
            if not token_matches(token, expected.get_secret_value() if expected else None):
                count(provider, "unauthorized")
                return Response("Not Found", status_code=404)
            body = await read_capped(request, MAX_BODY_BYTES)
            if body is None:
                count(provider, "too_large")
                return _error(413, BODY_TOO_LARGE)
            secret = container.settings.streamstack_webhook_secret
            if provider == "streamstack" and secret is not None:
                header = request.headers.get(STREAMSTACK_SIGNATURE_HEADER)
                if not streamstack_signature_valid(body, header, secret.get_secret_value()):
                    log.warning("streamstack webhook refused: signature missing or invalid")
                    count(provider, "unauthorized")
                    return _error(401, "signature missing or invalid")
            try:
                event = parse(body)
            except InvalidInput as exc:
                log.info("%s webhook refused: %s", provider, exc)
                count(provider, "invalid")
                return _error(400, str(exc))
            recorded = await container.intake.receive(event, body)
            log.debug(
                "%s webhook %s (%s): %s", provider, event.event, event.subject, recorded.outcome
            )
            if recorded.duplicate:
                count(provider, "duplicate")
            else:
                count(provider, "accepted" if event.known else "ignored")
            status = 200 if event.known else 202
            return JSONResponse({"ok": True, "result": recorded.outcome}, status_code=status)

        return receive

    return [
        Route(
            "/webhooks/streampixel/{token}",
            receiver("streampixel", parse_streampixel),
            methods=["POST"],
        ),
        Route(
            "/webhooks/streamstack/{token}",
            receiver("streamstack", parse_streamstack),
            methods=["POST"],
        ),
    ]


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before reading; a
    streamed (chunked) body is refused at the first chunk that crosses it, so
    at most ``limit`` bytes plus one chunk are ever held.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)
