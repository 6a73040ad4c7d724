"""Pydantic models of the two webhook envelopes, limited to what their columns hold.

Streampixel (providers.md §1.4): ``{event, projectId, uploadId, fileUrl, status,
objection, timestamp}``. StreamStack (S11): ``{event, uuid, data: {Media}, timestamp}``.

Every field that is stored in a column is limited to that column's length
(:mod:`storage.lengths`, the numbers the table models are declared with; where a
field lands in several columns, the shortest). Ids and names must be strings;
``null``, ``""`` and an absent field mean the same. StreamStack's descriptive
media fields (title, status, error, player URL, duration) are shown, never
stored in a column of their own: a value of the wrong type is dropped and a long
one cut, as before. Unknown fields are ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from storage import lengths

STREAMPIXEL_PREFIX = "streampixel:"
STREAMSTACK_PREFIX = "streamstack:"

#: Longest ``timestamp`` (ISO 8601 needs about 30 characters).
MAX_TIMESTAMP = 64
#: Longest text shown in a notification and kept in a ``text`` column (``fileUrl``, ``objection``).
MAX_TEXT = 500

EVENT_LEN = lengths.EVENT
#: ``projectId``: ``webhook_deliveries.project`` and the build tables' ``project_id``.
PROJECT_ID_LEN = min(lengths.WEBHOOK_PROJECT, lengths.PROJECT_ID)
#: ``uploadId``: ``webhook_deliveries.subject``, the build tables' ``upload_id``, the subject key.
UPLOAD_ID_LEN = min(
    lengths.WEBHOOK_SUBJECT, lengths.UPLOAD_ID, lengths.SUBJECT_KEY - len(STREAMPIXEL_PREFIX)
)
#: A video uuid: ``webhook_deliveries.subject`` and the subject key.
VIDEO_ID_LEN = lengths.VIDEO_ID


EventName = Annotated[str, StringConstraints(max_length=EVENT_LEN)]
ProjectId = Annotated[str, StringConstraints(max_length=PROJECT_ID_LEN)]
UploadId = Annotated[str, StringConstraints(max_length=UPLOAD_ID_LEN)]
VideoId = Annotated[str, StringConstraints(max_length=VIDEO_ID_LEN)]
BuildStatus = Annotated[str, StringConstraints(max_length=lengths.BUILD_STATUS)]
Timestamp = Annotated[str, StringConstraints(max_length=MAX_TIMESTAMP)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


def _loose(value: object) -> str | None:
    """A descriptive string: anything but a non-empty string is dropped, a long one cut."""
    if isinstance(value, str) and value:
        return value[:MAX_TEXT]
    return None


def _number(value: object) -> float | None:
    """A finite number, else None (``true`` is not a number here)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e300 else math.inf
        return number if math.isfinite(number) else None
    return None


def _object_or_none(value: object) -> object:
    return value if isinstance(value, dict) else None


Loose = Annotated[str | None, BeforeValidator(_loose)]


class _Envelope(BaseModel):
    """Strict strings (no number turned into an id), unknown fields ignored, blanks absent."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None and v != ""}
        return data


class StreampixelWebhook(_Envelope):
    """Streampixel's envelope, the same for every event (``webhook.test`` included)."""

    event: EventName
    project_id: ProjectId = Field(alias="projectId")
    timestamp: Timestamp
    upload_id: UploadId | None = Field(default=None, alias="uploadId")
    status: BuildStatus | None = None
    objection: Text | None = None
    file_url: Text | None = Field(default=None, alias="fileUrl")


class StreamStackUrls(BaseModel):
    """``data.urls``: only the player URL is shown."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    player: Loose = None


class StreamStackMedia(_Envelope):
    """``data``: the Media object (S3) as far as a notification shows it."""

    uuid: VideoId | None = None
    title: Loose = None
    status: Loose = None
    error: Loose = None
    message: Loose = None
    updated_at: Loose = None
    duration: Annotated[float | None, BeforeValidator(_number)] = None
    urls: Annotated[StreamStackUrls | None, BeforeValidator(_object_or_none)] = None


class StreamStackWebhook(_Envelope):
    """StreamStack's envelope; the uuid may come at the top level or inside ``data``."""

    event: EventName
    uuid: VideoId | None = None
    timestamp: Timestamp | None = None
    data: StreamStackMedia | None = None

    @property
    def video(self) -> str | None:
        """The video's uuid: the top-level one, else the one in ``data``."""
        return self.uuid or (self.data.uuid if self.data else None)


def reason(exc: ValidationError) -> str:
    """The first problem of ``exc`` in a few words, naming the field as the provider sends it."""
    error = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"required field `{field}` is missing"
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        return f"field `{field}` is longer than {limit} characters"
    if kind == "string_type":
        return f"field `{field}` must be a string"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"field `{field}` must be an object" if field else "body is not a JSON object"
    return f"field `{field}` is invalid"
