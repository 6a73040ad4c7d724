"""Pydantic models of Streampixel's replies, limited to the columns their values are stored in.

Project ids, upload ids and pipeline statuses are stored (``known_builds``,
``release_events``, ``streampixel_project_names``): they are limited to
:mod:`storage.lengths` and may not hold a NUL or a lone surrogate, which no
database column can store. A reply that breaks this is "unexpected" (the client
turns it into ``ProviderUnavailable``), as a reply missing a field always was.
A project name longer than its column is cut (it is only shown). Numbers sent
as ids are read as strings, as before; unknown fields are ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from bot.storable import storable
from storage import lengths

ProjectId = Annotated[
    str, StringConstraints(min_length=1, max_length=lengths.PROJECT_ID), AfterValidator(storable)
]
UploadId = Annotated[
    str, StringConstraints(min_length=1, max_length=lengths.UPLOAD_ID), AfterValidator(storable)
]


def _cut_name(value: object) -> object:
    return value[: lengths.PROJECT_NAME] if isinstance(value, str) else value


def _status(value: object) -> object:
    """A pipeline status: absent is ``""``; a longer one than the column is refused."""
    return "" if value is None else value


def _date(value: object) -> datetime | None:
    """An ISO 8601 date as aware UTC, or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _blank_is_none(value: object) -> object:
    return None if value in ("", 0, False) else value


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


class ProjectItem(_Reply):
    """One entry of ``projects-status``."""

    id: ProjectId = Field(alias="_id")
    name: Annotated[str, BeforeValidator(_cut_name), AfterValidator(storable)]
    status: Any
    subscription_status: str = Field(default="", alias="subscriptionStatus")


class ProjectsReply(_Reply):
    """``GET /projects/projects-status``."""

    projects: list[ProjectItem]


class UserStatsReply(_Reply):
    """``GET /projects/userStats/{id}``."""

    live_users: int = Field(alias="liveUser")
    queued_users: int = Field(alias="queueUser")


class FileItem(_Reply):
    """One processed build in ``GET /projects/{id}``'s ``files``."""

    upload_id: UploadId = Field(alias="_id")
    status: Annotated[
        str,
        BeforeValidator(_status),
        StringConstraints(max_length=lengths.BUILD_STATUS),
        AfterValidator(storable),
    ] = ""
    url: Annotated[str | None, BeforeValidator(_blank_is_none)] = None
    date: Annotated[datetime | None, BeforeValidator(_date)] = None
    objection: Annotated[str | None, BeforeValidator(_blank_is_none)] = None


class UploadReply(_Reply):
    """``POST /projects/upload-file``."""

    upload_id: UploadId = Field(alias="uploadId")
    message: str


class DistributeReply(_Reply):
    """``POST /projects/distribute-file``."""

    upload_id: Annotated[UploadId | None, BeforeValidator(_blank_is_none)] = Field(
        default=None, alias="uploadId"
    )
    message: str
    region: str | None = None


class TestWebhookReply(_Reply):
    """``POST /projects/test-webhook``."""

    success: Any
    message: str
    status_code: Annotated[int, BeforeValidator(lambda v: v or 0)] = Field(
        default=0, alias="statusCode"
    )
