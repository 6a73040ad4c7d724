"""Parse Streampixel and StreamStack webhook bodies into :class:`WebhookEvent`.

Streampixel (providers.md §1.4) sends one envelope for every event:
``{event, projectId, uploadId, fileUrl, status, objection, timestamp}``.
StreamStack (S11) sends ``{event, uuid, data: {Media}, timestamp}``.
A body that is not a JSON object, or lacks a required field, raises
:class:`bot.errors.InvalidInput` naming the problem. Unknown event names parse
fine (``known`` is False): the receiver stores them without posting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInput
from bot.notifications.types import BUILD_EVENTS, MEDIA_EVENTS, WEBHOOK_TEST, Notice

STREAMPIXEL = "streampixel"
STREAMSTACK = "streamstack"

# Event names are defined once, with the notification type (storage owns what it persists).
__all__ = [
    "BUILD_EVENTS",
    "MEDIA_EVENTS",
    "STREAMPIXEL",
    "STREAMSTACK",
    "WEBHOOK_TEST",
    "WebhookEvent",
    "dedupe_key",
    "parse_streampixel",
    "parse_streamstack",
]

MAX_FIELD = 500


@dataclass(frozen=True)
class WebhookEvent:
    """One parsed webhook.

    Attributes:
        provider: ``"streampixel"`` or ``"streamstack"``.
        event: the event name as sent.
        known: whether we post notifications for it.
        subject: the build ``uploadId`` or video ``uuid`` (None when absent).
        project: the Streampixel ``projectId`` (None for StreamStack).
        dedupe_key: equal for the same provider, event, ids and timestamp.
        notification: what a notification about it carries.
    """

    provider: str
    event: str
    known: bool
    subject: str | None
    project: str | None
    dedupe_key: str
    notification: Notice

    @property
    def subject_key(self) -> str:
        """Groups notifications into one message per build or video (``""``: standalone)."""
        if not self.known or self.subject is None or self.event == WEBHOOK_TEST:
            return ""
        return f"{self.provider}:{self.subject}"


def dedupe_key(provider: str, *parts: str | None) -> str:
    """A fixed-length key over ``provider`` and the identifying ``parts``."""
    text = "\n".join([provider, *(p or "" for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()


def _object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InvalidInput("body is not a JSON object")
    return payload


def _text(payload: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = payload.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"required field `{name}` is missing")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"field `{name}` must be a string")
    if len(value) > MAX_FIELD:
        raise InvalidInput(f"field `{name}` is too long")
    return value


def parse_streampixel(body: bytes) -> WebhookEvent:
    """Parse a Streampixel webhook body.

    Raises:
        InvalidInput: not a JSON object, or ``event``, ``projectId`` or
            ``timestamp`` missing, or a field of the wrong type.
    """
    payload = _object(body)
    event = _text(payload, "event", required=True)
    project = _text(payload, "projectId", required=True)
    timestamp = _text(payload, "timestamp", required=True)
    upload = _text(payload, "uploadId", required=False)
    assert event is not None  # required above
    notification = Notice(
        provider=STREAMPIXEL,
        event=event,
        project=project,
        subject=upload,
        timestamp=timestamp,
        status=_text(payload, "status", required=False),
        objection=_text(payload, "objection", required=False),
        file_url=_text(payload, "fileUrl", required=False),
    )
    return WebhookEvent(
        provider=STREAMPIXEL,
        event=event,
        known=event in BUILD_EVENTS or event == WEBHOOK_TEST,
        subject=upload,
        project=project,
        dedupe_key=dedupe_key(STREAMPIXEL, event, project, upload, timestamp),
        notification=notification,
    )


def parse_streamstack(body: bytes) -> WebhookEvent:
    """Parse a StreamStack webhook body.

    ``uuid`` may come at the top level or inside ``data``.

    Raises:
        InvalidInput: not a JSON object, ``event`` or the uuid missing, or a
            field of the wrong type.
    """
    payload = _object(body)
    event = _text(payload, "event", required=True)
    assert event is not None  # required above
    data = payload.get("data")
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("field `data` must be an object")
    data = data or {}
    uuid = _text(payload, "uuid", required=False) or _text(data, "uuid", required=False)
    if uuid is None:
        raise InvalidInput("required field `uuid` is missing")
    timestamp = _text(payload, "timestamp", required=False)
    raw_urls = data.get("urls")
    urls: dict[str, Any] = raw_urls if isinstance(raw_urls, dict) else {}
    duration = data.get("duration")
    notification = Notice(
        provider=STREAMSTACK,
        event=event,
        subject=uuid,
        timestamp=timestamp,
        title=_loose(data.get("title")),
        status=_loose(data.get("status")),
        error=_loose(data.get("error") or data.get("message")),
        player_url=_loose(urls.get("player")),
        duration=duration if isinstance(duration, int | float) else None,
    )
    return WebhookEvent(
        provider=STREAMSTACK,
        event=event,
        known=event in MEDIA_EVENTS,
        subject=uuid,
        project=None,
        dedupe_key=dedupe_key(
            STREAMSTACK, event, uuid, timestamp or _loose(data.get("updated_at"))
        ),
        notification=notification,
    )


def _loose(value: object) -> str | None:
    """An optional descriptive string from ``data``; anything else is dropped."""
    if isinstance(value, str) and value:
        return value[:MAX_FIELD]
    return None
