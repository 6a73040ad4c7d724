"""Provider webhook receivers: ``POST /webhooks/{streampixel,streamstack}/{token}``.

Order of checks, each answered before anything is stored:

1. the path token equals ``STREAMOPS_WEBHOOK_TOKEN`` (constant time); unset
   or wrong → 404, so the endpoint does not reveal that it exists;
2. StreamStack only, when ``STREAMSTACK_WEBHOOK_SECRET`` is set: the
   ``X-StreamStack-Signature`` HMAC of the raw body → 401 when missing or wrong;
3. the body parses and has its required fields → otherwise 400 with the reason.

Then one transaction stores the delivery (deduplicated) and its outbox rows,
and only then is the 2xx sent: 200 for a stored or duplicate known event, 202
for an unknown event (stored, not posted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.deps import Deps
from bot.errors import InvalidInput
from bot.webhooks.parse import WebhookEvent, parse_streampixel, parse_streamstack
from bot.webhooks.signatures import (
    STREAMSTACK_SIGNATURE_HEADER,
    streamstack_signature_valid,
    token_matches,
)
from storage.builds import BuildStore
from storage.db import Write
from storage.operations import DUPLICATE, REFUSED
from storage.timeline import TimelineStore
from storage.webhooks import Intake, WebhookStore

log = logging.getLogger("streamops.webhooks")

#: Metric outcomes that are refusals (tallied for the admins' Home tab).
_REFUSED = frozenset({"unauthorized", "invalid", "too_large"})
#: Larger bodies are refused (a webhook envelope is a few hundred bytes).
MAX_BODY_BYTES = 256 * 1024


def routes(deps: Deps) -> list[Route]:
    """The two webhook routes, bound to ``deps``."""
    store = WebhookStore(deps.db)
    builds = BuildStore(deps.db)

    def count(provider: str, outcome: str) -> None:
        """Count the webhook in /metrics and, when not stored, in the shared tallies."""
        deps.metrics.webhooks.labels(provider, outcome).inc()
        tally = DUPLICATE if outcome == "duplicate" else REFUSED if outcome in _REFUSED else None
        if tally is not None:
            deps.tallies.add(provider, tally)  # written in batches by bot.jobs.tallies

    timeline = TimelineStore(deps.db)

    def receiver(
        provider: str, parse: Callable[[bytes], WebhookEvent]
    ) -> Callable[[Request], object]:
        async def receive(request: Request) -> Response:
            expected = deps.settings.webhook_token
            token = str(request.path_params.get("token", ""))
            if not token_matches(token, expected.get_secret_value() if expected else None):
                count(provider, "unauthorized")
                return Response("Not Found", status_code=404)
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                count(provider, "too_large")
                return _error(413, "body too large")
            secret = deps.settings.streamstack_webhook_secret
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
            recorded = await store.record(
                Intake(
                    provider=provider,
                    event=event.event,
                    subject=event.subject,
                    project=event.project,
                    dedupe_key=event.dedupe_key,
                    raw_payload=body.decode("utf-8", errors="replace"),
                    notification=event.notification if event.known else None,
                    subject_key=event.subject_key,
                    also=_build_list_update(builds, timeline, event),
                ),
                deps.clock(),
                default_channel=deps.settings.default_channel,
            )
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


def _build_list_update(
    builds: BuildStore, timeline: TimelineStore, event: WebhookEvent
) -> tuple[Write, ...] | None:
    """For a Streampixel build event: the writes that keep `/build builds` current.

    They run in the intake transaction, so the build list, the release timeline
    (a ``build.distributing`` makes its build the live one) and the stored
    delivery never disagree. The fields come from the parsed (validated) event.
    """
    if not (
        event.provider == "streampixel"
        and event.known
        and event.subject
        and event.project
        and event.event.startswith("build.")
    ):
        return None
    fields = event.notification
    try:
        at = datetime.fromisoformat(str(fields["timestamp"]).replace("Z", "+00:00"))
    except ValueError:
        at = datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    known = builds.pipeline_write(
        event.project,
        event.subject,
        fields.get("status") or event.event.removeprefix("build."),
        fields.get("file_url"),
        fields.get("objection"),
        at,
    )
    if event.event == "build.distributing":
        return known, timeline.live_write(event.project, event.subject, at)
    return (known,)


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)
