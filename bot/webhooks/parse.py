"""Parse Streampixel and StreamStack webhook bodies into :class:`WebhookEvent`.

Streampixel (providers.md §1.4) sends one envelope for every event:
``{event, projectId, uploadId, fileUrl, status, objection, timestamp}``.
StreamStack (S11) sends ``{event, uuid, data: {Media}, timestamp}``.
The body is read by :func:`bot.webhooks.body.read_json` (UTF-8, JSON, at most
32 levels deep, no NUL, no lone surrogate) and validated by the pydantic models
of :mod:`bot.webhooks.models`, whose limits are the columns' lengths. Anything
refused raises :class:`bot.errors.InvalidInput` naming the problem. Unknown
event names parse fine (``known`` is False): the receiver stores them without
posting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import InvalidInput
from bot.notifications.types import BUILD_EVENTS, MEDIA_EVENTS, WEBHOOK_TEST, Notice
from bot.webhooks.body import read_json
from bot.webhooks.models import (
    StreampixelWebhook,
    StreamStackMedia,
    StreamStackWebhook,
    reason,
)

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

_Model = TypeVar("_Model", bound=BaseModel)


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


def _validate(model: type[_Model], body: bytes) -> _Model:
    """``body`` read as JSON (:func:`bot.webhooks.body.read_json`) into ``model``."""
    payload = read_json(body)
    if not isinstance(payload, dict):
        raise InvalidInput("body is not a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput(reason(exc)) from None


def parse_streampixel(body: bytes) -> WebhookEvent:
    """Parse a Streampixel webhook body.

    Raises:
        InvalidInput: not a JSON object, or ``event``, ``projectId`` or
            ``timestamp`` missing, or a field of the wrong type.
    """
    hook = _validate(StreampixelWebhook, body)
    event, project, upload, timestamp = hook.event, hook.project_id, hook.upload_id, hook.timestamp
    notification = Notice(
        provider=STREAMPIXEL,
        event=event,
        project=project,
        subject=upload,
        timestamp=timestamp,
        status=hook.status,
        objection=hook.objection,
        file_url=hook.file_url,
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
    hook = _validate(StreamStackWebhook, body)
    event, uuid, timestamp = hook.event, hook.video, hook.timestamp
    if uuid is None:
        raise InvalidInput("required field `uuid` is missing")
    data = hook.data or StreamStackMedia()
    notification = Notice(
        provider=STREAMSTACK,
        event=event,
        subject=uuid,
        timestamp=timestamp,
        title=data.title,
        status=data.status,
        error=data.error or data.message,
        player_url=data.urls.player if data.urls else None,
        duration=data.duration,
    )
    return WebhookEvent(
        provider=STREAMSTACK,
        event=event,
        known=event in MEDIA_EVENTS,
        subject=uuid,
        project=None,
        dedupe_key=dedupe_key(STREAMSTACK, event, uuid, timestamp or data.updated_at),
        notification=notification,
    )
